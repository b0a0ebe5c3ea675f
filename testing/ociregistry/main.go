// Command ociregistry is an OCI registry with the referrers API (OCI
// distribution spec 1.1) for the local test stack: go-containerregistry's
// pkg/registry, blobs on disk, manifests in memory, plain HTTP.
//
// It corrects that registry's referrers list to what the spec says: each
// descriptor's artifactType is the referrer manifest's artifactType (its
// config media type only when it has none), the artifactType query
// parameter filters the list (answered with OCI-Filters-Applied), and the
// list is sorted by digest rather than in map order.
//
// It is a test fixture: no authentication, nothing persisted across runs.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5001", "listen address")
	dir := flag.String("blobs", "", "directory for blobs (default: in memory)")
	verbose := flag.Bool("v", false, "log every request")
	flag.Parse()

	opts := []registry.Option{registry.WithReferrersSupport(true)}
	if !*verbose {
		opts = append(opts, registry.Logger(log.New(io.Discard, "", 0)))
	}
	if *dir != "" {
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			log.Fatalf("ociregistry: %v", err)
		}
		opts = append(opts, registry.WithBlobHandler(registry.NewDiskBlobHandler(*dir)))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("ociregistry: %v", err)
	}
	log.Printf("ociregistry: serving http://%s", ln.Addr())
	log.Fatal(http.Serve(ln, referrers{registry.New(opts...)}))
}

// referrers serves GET /v2/NAME/referrers/DIGEST from the manifests of
// next, and passes every other request to it.
type referrers struct{ next http.Handler }

func (h referrers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	repo, subject, ok := referrersPath(r.URL.Path)
	if !ok || r.Method != http.MethodGet {
		h.next.ServeHTTP(w, r)
		return
	}
	list := h.get(r, "/v2/"+repo+"/referrers/"+subject)
	if list.Code != http.StatusOK {
		copyResponse(w, list)
		return
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(list.Body.Bytes(), &idx); err != nil {
		http.Error(w, fmt.Sprintf("referrers of %s: %v", subject, err), http.StatusInternalServerError)
		return
	}
	want := r.URL.Query().Get("artifactType")
	kept := []v1.Descriptor{}
	for _, d := range idx.Manifests {
		m := h.get(r, "/v2/"+repo+"/manifests/"+d.Digest.String())
		var mf struct {
			ArtifactType string `json:"artifactType"`
			Config       struct {
				MediaType string `json:"mediaType"`
			} `json:"config"`
		}
		if m.Code != http.StatusOK || json.Unmarshal(m.Body.Bytes(), &mf) != nil {
			continue // deleted meanwhile
		}
		d.ArtifactType = mf.ArtifactType
		if d.ArtifactType == "" {
			d.ArtifactType = mf.Config.MediaType
		}
		if want == "" || d.ArtifactType == want {
			kept = append(kept, d)
		}
	}
	slices.SortFunc(kept, func(a, b v1.Descriptor) int { return strings.Compare(a.Digest.String(), b.Digest.String()) })
	idx.Manifests = kept
	body, err := json.Marshal(idx)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if want != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	w.Header().Set("Content-Type", string(types.OCIImageIndex))
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.Write(body)
}

// get asks next for path, as r's client.
func (h referrers) get(r *http.Request, path string) *httptest.ResponseRecorder {
	req := r.Clone(r.Context())
	req.URL.Path, req.URL.RawQuery, req.RequestURI = path, "", ""
	req.Header.Set("Accept", strings.Join([]string{string(types.OCIManifestSchema1), string(types.OCIImageIndex),
		string(types.DockerManifestSchema2), string(types.DockerManifestList)}, ","))
	rec := httptest.NewRecorder()
	h.next.ServeHTTP(rec, req)
	return rec
}

// referrersPath splits /v2/NAME/referrers/DIGEST.
func referrersPath(p string) (repo, digest string, ok bool) {
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndex(rest, "/referrers/")
	if i <= 0 {
		return "", "", false
	}
	return rest[:i], rest[i+len("/referrers/"):], true
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	io.Copy(w, bytes.NewReader(rec.Body.Bytes()))
}
