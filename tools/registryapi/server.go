package registryapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"time"
)

// Server is the registry's HTTP API:
//
//	POST /api/v1/ingest/release            record a release (bearer token)
//	GET  /api/v1/releases/{org}/{repo}      every recorded version
//	GET  /api/v1/releases/{org}/{repo}/{tag} one version's record
type Server struct {
	Store *Store
	Auth  Authenticator
	// Log receives one line per request; nil discards.
	Log *log.Logger
	// Now is the clock of received_at; nil means time.Now.
	Now func() time.Time
}

// maxBody bounds a request; docs and schemas are small text.
const maxBody = 8 << 20

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+IngestPath, s.ingest)
	mux.HandleFunc("GET /api/v1/releases/{org}/{repo}", s.list)
	mux.HandleFunc("GET /api/v1/releases/{org}/{repo}/{tag}", s.get)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	return mux
}

func (s *Server) logf(format string, a ...any) {
	if s.Log != nil {
		s.Log.Printf(format, a...)
	}
}

type apiError struct {
	Code  int    `json:"code"`
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func fail(w http.ResponseWriter, code int, format string, a ...any) {
	writeJSON(w, code, apiError{Code: code, Error: fmt.Sprintf(format, a...)})
}

func (s *Server) ingest(w http.ResponseWriter, r *http.Request) {
	tok, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		fail(w, http.StatusUnauthorized, "missing bearer token")
		return
	}
	repo, err := s.Auth.Authenticate(r.Context(), tok)
	if err != nil {
		s.logf("ingest: 401: %v", err)
		fail(w, http.StatusUnauthorized, "invalid token: %v", err)
		return
	}
	var rel Release
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rel); err != nil {
		fail(w, http.StatusBadRequest, "request body: %v", err)
		return
	}
	if err := rel.Validate(); err != nil {
		fail(w, http.StatusBadRequest, "invalid release: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
		return
	}
	if want := rel.Org + "/" + rel.Name; repo != "*" && !strings.EqualFold(repo, want) {
		s.logf("ingest: 401: token of %s for %s", repo, want)
		fail(w, http.StatusUnauthorized, "token is for repository %s, not %s", repo, want)
		return
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	created, err := s.Store.Put(r.Context(), &rel, now())
	switch {
	case errors.Is(err, ErrConflict):
		s.logf("ingest: 409: %s/%s@%s differs from the recorded one", rel.Org, rel.Name, rel.Version)
		fail(w, http.StatusConflict, "%s/%s %s is already recorded with different content; records are immutable", rel.Org, rel.Name, rel.Version)
	case err != nil:
		s.logf("ingest: 500: %v", err)
		fail(w, http.StatusInternalServerError, "storing the release failed")
	default:
		s.logf("ingest: %s/%s@%s recorded (new: %v)", rel.Org, rel.Name, rel.Version, created)
		status := "success"
		if !created {
			status = "unchanged"
		}
		writeJSON(w, http.StatusOK, Status{Code: http.StatusOK, Status: status, Version: rel.Version})
	}
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	rels, err := s.Store.List(r.Context(), r.PathValue("org"), r.PathValue("repo"))
	if err != nil {
		s.logf("list: %v", err)
		fail(w, http.StatusInternalServerError, "reading releases failed")
		return
	}
	if len(rels) == 0 {
		fail(w, http.StatusNotFound, "no releases of %s/%s", r.PathValue("org"), r.PathValue("repo"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"releases": rels})
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	rel, err := s.Store.Get(r.Context(), r.PathValue("org"), r.PathValue("repo"), r.PathValue("tag"))
	if err != nil {
		s.logf("get: %v", err)
		fail(w, http.StatusInternalServerError, "reading the release failed")
		return
	}
	if rel == nil {
		fail(w, http.StatusNotFound, "%s/%s %s is not recorded", r.PathValue("org"), r.PathValue("repo"), r.PathValue("tag"))
		return
	}
	writeJSON(w, http.StatusOK, rel)
}
