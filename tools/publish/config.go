package publish

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
)

var configKeyRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// ParseConfig reads a publish configuration file: one "name = value" per
// line, where name is a flag name without dashes; blank lines and lines
// starting with '#' are ignored. Values are taken verbatim after trimming
// spaces (no quoting). A repeated name is an error.
func ParseConfig(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || !configKeyRE.MatchString(k) {
			return nil, fmt.Errorf("line %d: want 'name = value' with a flag name like s3-endpoint, got %q", n, line)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("line %d: %s is set twice", n, k)
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// EnvName is the environment variable that sets a flag:
// "s3-endpoint" => RELKIT_S3_ENDPOINT.
func EnvName(flag string) string {
	return "RELKIT_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}
