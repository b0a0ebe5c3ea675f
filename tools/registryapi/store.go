package registryapi

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite", pure Go
)

// Store keeps release records in SQL: SQLite (pure Go) or Postgres.
type Store struct {
	db       *sql.DB
	postgres bool
}

// ErrConflict means the version is recorded with different content.
var ErrConflict = errors.New("a different record of this version exists")

// receivedAtLayout has a fixed width, so that received_at sorts as text in
// time order: RFC 3339 with trimmed fractions does not ("05Z" > "05.5Z").
const receivedAtLayout = "2006-01-02T15:04:05.000000000Z07:00"

// OpenStore opens dsn: a postgres:// or postgresql:// URL, or a SQLite
// database file path (created if missing). It creates the table.
func OpenStore(ctx context.Context, dsn string) (*Store, error) {
	s := &Store{}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		s.postgres = true
		s.db, err = sql.Open("pgx", dsn)
	} else {
		if dsn == "" {
			return nil, errors.New("registry database: empty; give a SQLite file path or a postgres:// URL")
		}
		// WAL and a busy timeout let readers run beside the writer.
		s.db, err = sql.Open("sqlite", "file:"+dsn+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
		if err == nil {
			s.db.SetMaxOpenConns(1)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("registry database: %w", err)
	}
	const schema = `CREATE TABLE IF NOT EXISTS releases (
		org TEXT NOT NULL,
		name TEXT NOT NULL,
		version TEXT NOT NULL,
		record TEXT NOT NULL,
		record_sha256 TEXT NOT NULL,
		received_at TEXT NOT NULL,
		PRIMARY KEY (org, name, version))`
	if _, err := s.db.ExecContext(ctx, schema); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("registry database %s: create table: %w", redact(dsn), err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// q rewrites ? placeholders as $N for Postgres.
func (s *Store) q(query string) string {
	if !s.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Put stores r. Storing the same record again is fine (created false);
// a different record of a stored version is ErrConflict.
func (s *Store) Put(ctx context.Context, r *Release, now time.Time) (created bool, err error) {
	data, err := json.Marshal(r)
	if err != nil {
		return false, err
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	res, err := s.db.ExecContext(ctx, s.q(`INSERT INTO releases (org, name, version, record, record_sha256, received_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
		r.Org, r.Name, r.Version, string(data), digest, now.UTC().Format(receivedAtLayout))
	if err != nil {
		return false, fmt.Errorf("store release: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	var have string
	err = s.db.QueryRowContext(ctx, s.q(`SELECT record_sha256 FROM releases WHERE org = ? AND name = ? AND version = ?`),
		r.Org, r.Name, r.Version).Scan(&have)
	if err != nil {
		return false, fmt.Errorf("read stored release: %w", err)
	}
	if have != digest {
		return false, ErrConflict
	}
	return false, nil
}

// Get returns the record of one version, or nil if there is none.
func (s *Store) Get(ctx context.Context, org, name, version string) (*Release, error) {
	var data string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT record FROM releases WHERE org = ? AND name = ? AND version = ?`),
		org, name, version).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read release: %w", err)
	}
	var r Release
	if err := json.Unmarshal([]byte(data), &r); err != nil {
		return nil, fmt.Errorf("stored release %s/%s@%s: %w", org, name, version, err)
	}
	return &r, nil
}

// List returns every recorded version of org/name, oldest record first.
func (s *Store) List(ctx context.Context, org, name string) ([]*Release, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT record FROM releases WHERE org = ? AND name = ? ORDER BY received_at, version`), org, name)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	defer rows.Close()
	var out []*Release
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var r Release
		if err := json.Unmarshal([]byte(data), &r); err != nil {
			return nil, err
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}

// redact hides a password in a database URL.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			return dsn[:i+3] + "***" + dsn[at:]
		}
	}
	return dsn
}
