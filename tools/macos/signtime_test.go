package macos_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/relkit/relkit/tools/macos"
)

func TestSignAtFixedTimeIsReproducible(t *testing.T) {
	when := time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)
	for _, arch := range archs {
		t.Run(arch, func(t *testing.T) {
			bin := darwinBuilds(t)[arch][0]
			opts := macos.SignOptions{Identifier: "com.acme.hello", Time: when}
			a, err := macos.Sign(bin, identity(t), opts)
			if err != nil {
				t.Fatal(err)
			}
			b, err := macos.Sign(bin, identity(t), opts)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Error("two signatures at the same time differ")
			}
			sig, err := macos.Verify(a, pki(t).Roots)
			if err != nil {
				t.Fatal(err)
			}
			if !sig.SigningTime.Equal(when) {
				t.Errorf("signing time %s, want %s", sig.SigningTime, when)
			}
		})
	}
}
