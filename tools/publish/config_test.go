package publish

import (
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	got, err := ParseConfig(strings.NewReader("# local stack\nbucket = dist\n\ns3-endpoint=http://127.0.0.1:7070 \n"))
	if err != nil || len(got) != 2 || got["bucket"] != "dist" || got["s3-endpoint"] != "http://127.0.0.1:7070" {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"bucket", "Bucket = x", "--bucket = x", "a = 1\na = 2"} {
		if _, err := ParseConfig(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line ") {
			t.Errorf("%q: %v; want an error naming the line", bad, err)
		}
	}
	if EnvName("s3-path-style") != "RELKIT_S3_PATH_STYLE" {
		t.Error(EnvName("s3-path-style"))
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add("bucket = dist\n# c\n\nprefix=a=b\n")
	f.Add("x\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseConfig(strings.NewReader(s))
		if err != nil {
			return
		}
		for k, v := range m {
			if !configKeyRE.MatchString(k) || v != strings.TrimSpace(v) {
				t.Fatalf("bad entry %q = %q", k, v)
			}
		}
	})
}
