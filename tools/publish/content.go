package publish

import (
	"strings"

	"github.com/relkit/relkit/tools/release"
)

// CacheControl is sent with every object: a published object never changes.
const CacheControl = "public,max-age=31536000,immutable"

// ContentType is the Content-Type of a release file, by name. It makes the
// previous pipeline's headers consistent: every certificate is PEM, every
// signature octets, every JSON document JSON, whoever uploaded it.
func ContentType(name string) string {
	switch {
	case strings.HasSuffix(name, release.CertSuffix):
		return "application/x-pem-file"
	case strings.HasSuffix(name, release.SigSuffix):
		return "application/octet-stream"
	case strings.HasSuffix(name, ".json"):
		return "application/json"
	case strings.HasSuffix(name, ".zip"):
		return "application/zip"
	case strings.HasSuffix(name, ".tar.gz"), strings.HasSuffix(name, ".tgz"):
		return "application/gzip"
	case strings.HasSuffix(name, ".msi"):
		return "application/x-msi"
	case strings.HasSuffix(name, ".txt"):
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}
