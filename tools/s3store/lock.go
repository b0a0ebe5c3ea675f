package s3store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// LockInfo is the content of a lock object.
type LockInfo struct {
	Owner   string    `json:"owner"` // free text naming the holder, e.g. a CI run URL
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// LockedError reports a lock held by another publisher.
type LockedError struct {
	Key  string
	Info LockInfo
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("s3: %s is locked by %s (host %s, pid %d) since %s, until %s: another publish of this release is running; wait for it, or delete the lock object if that run is gone",
		e.Key, e.Info.Owner, e.Info.Host, e.Info.PID, e.Info.Created.Format(time.RFC3339), e.Info.Expires.Format(time.RFC3339))
}

// Lock is a held lock; Unlock releases it.
type Lock struct {
	s    *Store
	key  string
	etag string
}

// Lock creates the lock object key, valid for ttl. A lock that expired, or
// whose holder was a process on this host that no longer runs (a publish
// killed mid-way), is taken over. Otherwise it fails with *LockedError.
func (s *Store) Lock(ctx context.Context, key, owner string, ttl time.Duration) (*Lock, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	now := time.Now().UTC()
	info := LockInfo{Owner: owner, Host: host, PID: os.Getpid(), Created: now, Expires: now.Add(ttl)}
	body, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		out, err := s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:      &s.bucket,
			Key:         &key,
			Body:        strings.NewReader(string(body)),
			ContentType: aws.String("application/json"),
			IfNoneMatch: aws.String("*"),
		})
		if err == nil {
			return &Lock{s: s, key: key, etag: aws.ToString(out.ETag)}, nil
		}
		if !isPreconditionFailed(err) {
			return nil, fmt.Errorf("s3: lock s3://%s/%s: %w", s.bucket, key, s.explain(err))
		}
		held, etag, found, err := s.readLock(ctx, key)
		if err != nil {
			return nil, err
		}
		if !found && attempt == 0 {
			continue // released meanwhile
		}
		if found && held.Host == info.Host && held.PID == info.PID && held.Created.Equal(info.Created) {
			// Our own write: it reached the server, its answer was lost,
			// and the SDK's retry was refused.
			return &Lock{s: s, key: key, etag: etag}, nil
		}
		if attempt > 0 || !stale(held, host, now) {
			return nil, &LockedError{Key: key, Info: held}
		}
		// Remove the stale lock only if it is still the one we read.
		if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key, IfMatch: aws.String(etag)}); err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("s3: remove stale lock s3://%s/%s: %w", s.bucket, key, s.explain(err))
		}
	}
}

func (s *Store) readLock(ctx context.Context, key string) (info LockInfo, etag string, found bool, err error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		if isNotFound(err) {
			return LockInfo{}, "", false, nil
		}
		return LockInfo{}, "", false, fmt.Errorf("s3: read lock s3://%s/%s: %w", s.bucket, key, s.explain(err))
	}
	defer out.Body.Close()
	if err := json.NewDecoder(out.Body).Decode(&info); err != nil {
		return LockInfo{}, "", false, fmt.Errorf("s3: lock s3://%s/%s is not a lock object: %w", s.bucket, key, err)
	}
	return info, aws.ToString(out.ETag), true, nil
}

// stale reports a lock nobody holds any more.
func stale(l LockInfo, host string, now time.Time) bool {
	if l.Expires.IsZero() || now.After(l.Expires) {
		return true
	}
	return l.Host == host && l.PID > 0 && !alive(l.PID)
}

// alive probes pid with signal 0 (where signals exist; elsewhere a lock
// only goes stale by expiry).
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return !errors.Is(err, os.ErrProcessDone) && !errors.Is(err, syscall.ESRCH)
}

// Unlock deletes the lock object if it is still ours; a lock that expired
// and was taken over is left to its new holder.
func (l *Lock) Unlock(ctx context.Context) error {
	_, err := l.s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &l.s.bucket, Key: &l.key, IfMatch: aws.String(l.etag)})
	if err != nil && !isNotFound(err) && !isPreconditionFailed(err) {
		return fmt.Errorf("s3: unlock s3://%s/%s: %w", l.s.bucket, l.key, l.s.explain(err))
	}
	return nil
}
