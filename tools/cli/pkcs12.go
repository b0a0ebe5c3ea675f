package cli

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// PKCS12 is a signing key given as a PKCS#12 (.p12/.pfx) file or as base64
// in an environment variable (a CI secret), with its password in another
// environment variable: passwords never go on a command line.
type PKCS12 struct {
	File        string // path of the .p12
	Env         string // name of the variable holding it as base64
	PasswordEnv string // name of the variable holding the password
	prefix      string
}

// Register adds the flags PREFIXpkcs12, PREFIXpkcs12-env and
// PREFIXpassword-env (default passwordEnv); what names the key in the help.
func (p *PKCS12) Register(fs *flag.FlagSet, prefix, passwordEnv, what string) {
	p.prefix = prefix
	fs.StringVar(&p.File, prefix+"pkcs12", "", what+": PKCS#12 `FILE` with the key and certificate chain")
	fs.StringVar(&p.Env, prefix+"pkcs12-env", "", what+": environment variable `NAME` holding the PKCS#12 as base64")
	fs.StringVar(&p.PasswordEnv, prefix+"password-env", passwordEnv, what+": environment variable `NAME` holding the PKCS#12 password")
}

// Given reports whether a file or a variable was named.
func (p *PKCS12) Given() bool { return p.File != "" || p.Env != "" }

// EnvEmpty reports whether the key comes from a variable that is unset or
// empty, as in a fork's workflow that has no access to the secret.
func (p *PKCS12) EnvEmpty(env *Env) bool {
	return p.File == "" && p.Env != "" && strings.TrimSpace(env.Env(p.Env)) == ""
}

// Load returns the PKCS#12 and its password. Errors name the flag or the
// variable to fix; a wrong password is detected here, before any signing.
func (p *PKCS12) Load(env *Env) (der []byte, password string, err error) {
	file, envFlag, passFlag := "--"+p.prefix+"pkcs12", "--"+p.prefix+"pkcs12-env", "--"+p.prefix+"password-env"
	switch {
	case p.File != "" && p.Env != "":
		return nil, "", Usagef("give %s FILE or %s NAME, not both", file, envFlag)
	case p.File != "":
		if der, err = os.ReadFile(p.File); err != nil {
			return nil, "", fmt.Errorf("%s: %w", file, err)
		}
	case p.Env != "":
		v := strings.Join(strings.Fields(env.Env(p.Env)), "")
		if v == "" {
			return nil, "", fmt.Errorf("%s: environment variable %s is empty; set it to the base64 of the .p12 file ('base64 -w0 key.p12')", envFlag, p.Env)
		}
		if der, err = base64.StdEncoding.DecodeString(v); err != nil {
			return nil, "", fmt.Errorf("%s: environment variable %s is not base64 (%v); encode the .p12 with 'base64 -w0 key.p12'", envFlag, p.Env, err)
		}
	default:
		return nil, "", Usagef("give %s FILE or %s NAME", file, envFlag)
	}
	password = env.Env(p.PasswordEnv)
	if _, _, _, err := pkcs12.DecodeChain(der, password); errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return nil, "", fmt.Errorf("%s: wrong password in environment variable %s (%s)", p.source(), p.PasswordEnv, passFlag)
	}
	return der, password, nil
}

// source names where the key came from, for errors.
func (p *PKCS12) source() string {
	if p.File != "" {
		return "--" + p.prefix + "pkcs12 " + p.File
	}
	return "--" + p.prefix + "pkcs12-env " + p.Env
}
