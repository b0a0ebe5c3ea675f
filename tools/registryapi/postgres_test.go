package registryapi

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// startPostgres starts a throwaway Postgres server on 127.0.0.1 and a free
// port, with its data in a temporary directory, and returns its URL. The
// server is stopped, by its PID, when the test ends. The test is skipped
// when the server binaries are not installed.
func startPostgres(t *testing.T) string {
	t.Helper()
	bin := postgresBin()
	if bin == "" {
		t.Skip("postgres: initdb and postgres are neither on PATH nor in /usr/lib/postgresql/*/bin; " +
			"install them (Debian: apt-get install postgresql, as scripts/setup.sh does) to run the Postgres store tests")
	}
	// Postgres refuses to run as root: as root, the server runs as the
	// postgres user (or nobody), which must own its directory.
	dir, err := os.MkdirTemp("", "relkit-postgres-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cred, err := serverCredential(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "--pgdata", data, "--username", "relkit",
		"--auth", "trust", "--encoding", "UTF8", "--locale", "C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}

	port := freePort(t)
	var logs bytes.Buffer
	// No Unix socket, no durability: a test server only.
	srv := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-h", "127.0.0.1", "-p", strconv.Itoa(port),
		"-c", "unix_socket_directories=", "-c", "fsync=off", "-c", "full_page_writes=off")
	srv.Stdout, srv.Stderr = &logs, &logs
	// SIGQUIT (immediate shutdown) if the test binary dies before Cleanup.
	srv.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	if err := srv.Start(); err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() {
		// SIGINT is Postgres's fast shutdown; SIGQUIT if it takes too long.
		srv.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			srv.Process.Signal(syscall.SIGQUIT)
			<-exited
		}
	})

	url := fmt.Sprintf("postgres://relkit@127.0.0.1:%d/postgres?sslmode=disable", port)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			break
		}
		select {
		case werr := <-exited:
			t.Fatalf("postgres (pid %d) exited: %v\n%s", srv.Process.Pid, werr, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres (pid %d) not ready on 127.0.0.1:%d after 30s: %v\n%s", srv.Process.Pid, port, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("postgres pid %d on 127.0.0.1:%d", srv.Process.Pid, port)
	return url
}

// postgresBin returns the directory holding initdb and postgres: on PATH, or
// Debian's newest /usr/lib/postgresql/VERSION/bin; "" when there is none.
func postgresBin() string {
	if initdb, err := exec.LookPath("initdb"); err == nil {
		if dir := filepath.Dir(initdb); isFile(filepath.Join(dir, "postgres")) {
			return dir
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, dir := range dirs {
		if isFile(filepath.Join(dir, "initdb")) && isFile(filepath.Join(dir, "postgres")) {
			return dir
		}
	}
	return ""
}

// pgVersion reads the major version from /usr/lib/postgresql/VERSION/bin.
func pgVersion(bin string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	return v
}

func isFile(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}

// serverCredential returns the account the server runs as: nil (this one)
// unless running as root, else postgres or nobody, given ownership of dir.
func serverCredential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var u *user.User
	var err error
	for _, name := range []string{"postgres", "nobody"} {
		if u, err = user.Lookup(name); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("postgres refuses to run as root and there is no postgres or nobody user: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	if err := os.Chown(dir, int(uid), int(gid)); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
