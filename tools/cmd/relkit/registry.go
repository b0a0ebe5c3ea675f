package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/relkit/relkit/tools/cli"
	"github.com/relkit/relkit/tools/registryapi"
)

func registryServeCmd() *cli.Command {
	var addr, db, tokenFile, issuer, jwksURL, audience string
	return &cli.Command{
		Name:    "registry serve",
		Args:    "[flags]",
		Summary: "run a connector registry API for local use and tests",
		Help: `Serves the registry API that 'relkit publish' records releases in:

  POST /api/v1/ingest/release            record a release (bearer token)
  GET  /api/v1/releases/ORG/REPO         every recorded version
  GET  /api/v1/releases/ORG/REPO/TAG     one version's record

Releases are stored in SQLite (--db FILE, pure Go, created if missing) or in
Postgres (--db postgres://...). A version is recorded once: the same record
again is accepted, a different one is refused with 409.

Tokens: with --oidc-issuer, a JWT signed by one of the issuer's keys
(--jwks-url, default ISSUER/jwks... as discovery names it), for --audience,
current, whose "repository" claim is the release's ORG/REPO. With
--token-file, that one token, for any repository (a developer machine).

Example:
  relkit registry serve --addr 127.0.0.1:8090 --db registry.db \
    --oidc-issuer http://127.0.0.1:8088`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&addr, "addr", "127.0.0.1:8090", "listen address")
			fs.StringVar(&db, "db", "registry.db", "SQLite database `FILE`, or a postgres:// URL")
			fs.StringVar(&tokenFile, "token-file", "", "accept the token in `FILE` for any repository")
			fs.StringVar(&issuer, "oidc-issuer", "", "accept JWTs of this OIDC issuer `URL`")
			fs.StringVar(&jwksURL, "jwks-url", "", "the issuer's key set (default: from its discovery document)")
			fs.StringVar(&audience, "audience", registryapi.Audience, "required token audience")
		},
		Run: func(ctx context.Context, env *cli.Env, args []string) error {
			if len(args) != 0 {
				return cli.Usagef("unexpected arguments %q", args)
			}
			var auth registryapi.Authenticator
			switch {
			case (tokenFile == "") == (issuer == ""):
				return cli.Usagef("give --oidc-issuer or --token-file")
			case tokenFile != "":
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return fmt.Errorf("token file: %w", err)
				}
				tok := strings.TrimSpace(string(b))
				if tok == "" {
					return fmt.Errorf("token file %s is empty", tokenFile)
				}
				auth = registryapi.StaticToken(tok)
			default:
				if jwksURL == "" {
					var err error
					if jwksURL, err = registryapi.DiscoverJWKS(ctx, nil, issuer); err != nil {
						return err
					}
				}
				auth = &registryapi.OIDC{Issuer: issuer, JWKSURL: jwksURL, Audience: audience}
			}
			store, err := registryapi.OpenStore(ctx, db)
			if err != nil {
				return err
			}
			defer store.Close()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			logger := log.New(env.Stderr, "registry: ", log.LstdFlags|log.LUTC)
			srv := &http.Server{Handler: (&registryapi.Server{Store: store, Auth: auth, Log: logger}).Handler(), ReadHeaderTimeout: 10 * time.Second}
			logger.Printf("serving http://%s (database %s)", ln.Addr(), db)
			go func() {
				<-ctx.Done()
				shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(shut)
			}()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
}
