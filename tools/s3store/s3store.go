// Package s3store stores release files in S3 write-once.
//
// Every write carries If-None-Match: *, so S3 itself refuses to replace an
// object. Each object records its SHA-256 in the x-amz-meta-sha256 header
// and is sent with an x-amz-checksum-sha256 the server checks, so bytes
// damaged in transit are refused rather than stored. Putting an object that
// already exists with the same SHA-256 is a no-op (a re-run resumes); with
// other bytes it is a ConflictError naming the key. Large files go up in
// parts, completed with the same condition.
//
// Requests are retried with backoff on 5xx, throttling, timeouts and
// dropped connections, and a stalled server times out. A write that
// reached the server but whose answer was lost is refused on retry by its
// own condition, and then recognised by its content as done.
//
// Lock guards one release directory against two concurrent publishers with
// a lock object created under the same condition.
package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// MetaSHA256 is the user metadata key holding an object's hex SHA-256.
const MetaSHA256 = "sha256"

// DefaultPartSize is the part size of multipart uploads; files larger than
// it are uploaded in parts.
const DefaultPartSize = 16 << 20

// Defaults of the request timeout and attempts; see Config.
const (
	DefaultRequestTimeout = 30 * time.Second
	DefaultAttempts       = 6
)

// Config selects the bucket and how to reach it. Empty fields use the AWS
// defaults (environment, shared config, instance or OIDC web identity role).
type Config struct {
	Bucket string
	// Endpoint is the S3 API base URL, e.g. http://127.0.0.1:7070; empty
	// means AWS.
	Endpoint string
	Region   string
	// PathStyle addresses buckets as ENDPOINT/BUCKET/KEY instead of
	// BUCKET.ENDPOINT/KEY; local servers need it.
	PathStyle bool
	// AccessKeyID and SecretAccessKey, when set, replace the default
	// credential chain.
	AccessKeyID, SecretAccessKey string
	// PartSize is the multipart part size; 0 means DefaultPartSize.
	PartSize int64
	// RequestTimeout bounds the wait for the server's answer once a
	// request was sent, so a stalled server costs one retry rather than
	// the whole run; 0 means DefaultRequestTimeout. Every attempt is also
	// bounded as a whole, at 20 times this.
	RequestTimeout time.Duration
	// Attempts bounds tries of one request (5xx, throttling, timeouts and
	// dropped connections are retried with backoff); 0 means
	// DefaultAttempts.
	Attempts int
	// HTTPClient carries the requests; nil means one with RequestTimeout.
	HTTPClient *http.Client
}

// Store writes objects to one bucket write-once.
type Store struct {
	client   *s3.Client
	bucket   string
	partSize int64
}

// New returns a Store for cfg.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3: bucket is empty; give the bucket name")
	}
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.AccessKeyID != "" || cfg.SecretAccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(cfg.HTTPClient))
	} else {
		opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().
			WithTimeout(20*timeout).
			WithDialerOptions(func(d *net.Dialer) { d.Timeout = timeout }).
			WithTransportOptions(func(t *http.Transport) { t.ResponseHeaderTimeout = timeout })))
	}
	attempts := cfg.Attempts
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	// Every write is conditional, so a retry of a write that did reach the
	// server is refused and then recognised as ours (see Put). No retry
	// quota: a flaky endpoint slows a publish down but does not end it.
	opts = append(opts, config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.RateLimiter = ratelimit.None
		})
	}))
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: load AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, errors.New("s3: no region; give --s3-region or set AWS_REGION")
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// We send our own SHA-256 checksum; no extra CRC trailer.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	part := cfg.PartSize
	if part == 0 {
		part = DefaultPartSize
	}
	if part < 5<<20 {
		return nil, fmt.Errorf("s3: part size %d is below the S3 minimum of 5 MiB", part)
	}
	return &Store{client: client, bucket: cfg.Bucket, partSize: part}, nil
}

// Bucket is the bucket the store writes to.
func (s *Store) Bucket() string { return s.bucket }

// Object is a local file to store under Key.
type Object struct {
	Key  string
	Path string
	// SHA256 (hex) and Size describe the file; the upload fails if the
	// bytes read differ.
	SHA256       string
	Size         int64
	ContentType  string
	CacheControl string
}

// Result says what Put did.
type Result int

const (
	// Uploaded means the object was created.
	Uploaded Result = iota
	// Skipped means an identical object was already there.
	Skipped
)

func (r Result) String() string {
	if r == Skipped {
		return "skipped"
	}
	return "uploaded"
}

// ConflictError reports an existing object whose content differs from what
// was to be written there. Published objects are never replaced.
type ConflictError struct {
	Bucket, Key string
	Want, Got   string // hex SHA-256; Got is empty when unknown
}

func (e *ConflictError) Error() string {
	got := e.Got
	if got == "" {
		got = "unknown"
	}
	return fmt.Sprintf("s3://%s/%s already exists with different content (sha256 %s, want %s); published objects are never overwritten: publish a new tag", e.Bucket, e.Key, got, e.Want)
}

// Info describes an existing object.
type Info struct {
	SHA256       string // from metadata; empty if the object has none
	Size         int64
	ETag         string
	ContentType  string
	CacheControl string
}

// Head returns the object's Info, or ok == false if there is none.
func (s *Store) Head(ctx context.Context, key string) (info Info, ok bool, err error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		if isNotFound(err) {
			return Info{}, false, nil
		}
		return Info{}, false, fmt.Errorf("s3: head s3://%s/%s: %w", s.bucket, key, s.explain(err))
	}
	return Info{
		SHA256:       out.Metadata[MetaSHA256],
		Size:         aws.ToInt64(out.ContentLength),
		ETag:         aws.ToString(out.ETag),
		ContentType:  aws.ToString(out.ContentType),
		CacheControl: aws.ToString(out.CacheControl),
	}, true, nil
}

// Get reads a whole object; ok is false if there is none. An object
// stored with its SHA-256 (by Put) must arrive with those bytes.
func (s *Store) Get(ctx context.Context, key string) (data []byte, ok bool, err error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		if isNotFound(err) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("s3: get s3://%s/%s: %w", s.bucket, key, s.explain(err))
	}
	defer out.Body.Close()
	data, err = io.ReadAll(out.Body)
	if err != nil {
		return nil, false, fmt.Errorf("s3: get s3://%s/%s: %w", s.bucket, key, err)
	}
	if want := out.Metadata[MetaSHA256]; want != "" {
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != want {
			return nil, false, fmt.Errorf("s3: get s3://%s/%s: received bytes with sha256 %x, the object's is %s", s.bucket, key, sum, want)
		}
	}
	return data, true, nil
}

// List returns the keys under prefix, sorted.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3: list s3://%s/%s: %w", s.bucket, prefix, s.explain(err))
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// Put stores obj unless an object with its key exists: the same content
// is Skipped, other content is a *ConflictError. progress, when not nil,
// receives the number of bytes sent as they go.
func (s *Store) Put(ctx context.Context, obj Object, progress func(n int64)) (Result, error) {
	if err := checkKey(obj.Key); err != nil {
		return Uploaded, err
	}
	if res, done, err := s.existing(ctx, obj); done {
		return res, err
	}
	var err error
	if obj.Size > s.partSize {
		err = s.putMultipart(ctx, obj, progress)
	} else {
		err = s.putSingle(ctx, obj, progress)
	}
	if err != nil {
		// Another writer created it between our check and our write (412),
		// or our own write reached the server but its answer was lost and
		// a retry was refused: either way what is there decides.
		if res, done, xerr := s.existing(ctx, obj); done && xerr == nil {
			return res, nil
		} else if done && isConflict(xerr) {
			return res, xerr
		}
		return Uploaded, err
	}
	return Uploaded, nil
}

// existing compares obj with the object already at its key, if any.
func (s *Store) existing(ctx context.Context, obj Object) (res Result, done bool, err error) {
	info, ok, err := s.Head(ctx, obj.Key)
	if err != nil {
		return Uploaded, true, err
	}
	if !ok {
		return Uploaded, false, nil
	}
	got := info.SHA256
	if got == "" {
		// Not written by us: hash what is there.
		if got, err = s.hashObject(ctx, obj.Key); err != nil {
			return Uploaded, true, err
		}
	}
	if got != obj.SHA256 || info.Size != obj.Size {
		return Uploaded, true, &ConflictError{Bucket: s.bucket, Key: obj.Key, Want: obj.SHA256, Got: got}
	}
	return Skipped, true, nil
}

func (s *Store) hashObject(ctx context.Context, key string) (string, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return "", fmt.Errorf("s3: get s3://%s/%s: %w", s.bucket, key, s.explain(err))
	}
	defer out.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, out.Body); err != nil {
		return "", fmt.Errorf("s3: get s3://%s/%s: %w", s.bucket, key, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (s *Store) putSingle(ctx context.Context, obj Object, progress func(int64)) error {
	sum, err := hex.DecodeString(obj.SHA256)
	if err != nil || len(sum) != sha256.Size {
		return fmt.Errorf("s3: %s: sha256 %q is not 64 hex digits", obj.Key, obj.SHA256)
	}
	f, err := openChecked(obj)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:         &s.bucket,
		Key:            &obj.Key,
		Body:           newProgressReader(f, progress),
		ContentLength:  aws.Int64(obj.Size),
		ContentType:    nonEmpty(obj.ContentType),
		CacheControl:   nonEmpty(obj.CacheControl),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum)),
		Metadata:       map[string]string{MetaSHA256: obj.SHA256},
		IfNoneMatch:    aws.String("*"),
	})
	if err != nil {
		return fmt.Errorf("s3: put s3://%s/%s: %w", s.bucket, obj.Key, s.explain(err))
	}
	return nil
}

func (s *Store) putMultipart(ctx context.Context, obj Object, progress func(int64)) (err error) {
	f, err := openChecked(obj)
	if err != nil {
		return err
	}
	defer f.Close()
	up, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:            &s.bucket,
		Key:               &obj.Key,
		ContentType:       nonEmpty(obj.ContentType),
		CacheControl:      nonEmpty(obj.CacheControl),
		Metadata:          map[string]string{MetaSHA256: obj.SHA256},
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	})
	if err != nil {
		return fmt.Errorf("s3: start multipart upload of s3://%s/%s: %w", s.bucket, obj.Key, s.explain(err))
	}
	defer func() {
		if err != nil {
			// Free the stored parts; the object itself was never created.
			_, _ = s.client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &obj.Key, UploadId: up.UploadId})
		}
	}()
	var parts []types.CompletedPart
	buf := make([]byte, s.partSize)
	whole := sha256.New()
	for n := int32(1); ; n++ {
		k, rerr := io.ReadFull(f, buf)
		if k == 0 && (rerr == io.EOF || rerr == io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil && rerr != io.ErrUnexpectedEOF {
			return fmt.Errorf("s3: read %s: %w", obj.Path, rerr)
		}
		whole.Write(buf[:k])
		ps := sha256.Sum256(buf[:k])
		psum := base64.StdEncoding.EncodeToString(ps[:])
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:         &s.bucket,
			Key:            &obj.Key,
			UploadId:       up.UploadId,
			PartNumber:     aws.Int32(n),
			Body:           newProgressReader(bytes.NewReader(buf[:k]), progress),
			ContentLength:  aws.Int64(int64(k)),
			ChecksumSHA256: aws.String(psum),
		})
		if err != nil {
			return fmt.Errorf("s3: upload part %d of s3://%s/%s: %w", n, s.bucket, obj.Key, s.explain(err))
		}
		if aws.ToString(out.ETag) == "" {
			// S3 always answers with the part's ETag; an empty success came
			// from something in between, and completing without the ETag
			// would only be refused as malformed.
			return fmt.Errorf("s3: upload part %d of s3://%s/%s: the answer has no ETag; check any proxy in front of the endpoint", n, s.bucket, obj.Key)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n), ChecksumSHA256: aws.String(psum)})
		if rerr == io.ErrUnexpectedEOF {
			break
		}
	}
	if got := hex.EncodeToString(whole.Sum(nil)); got != obj.SHA256 {
		return fmt.Errorf("s3: %s changed while uploading: sha256 %s, want %s", obj.Path, got, obj.SHA256)
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &s.bucket,
		Key:             &obj.Key,
		UploadId:        up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		IfNoneMatch:     aws.String("*"),
	})
	if err != nil {
		return fmt.Errorf("s3: complete multipart upload of s3://%s/%s: %w", s.bucket, obj.Key, s.explain(err))
	}
	return nil
}

// openChecked opens obj.Path after checking its size; the content hash is
// checked by the server (single part) or while reading (multipart).
func openChecked(obj Object) (*os.File, error) {
	f, err := os.Open(obj.Path)
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("s3: %w", err)
	}
	if st.Size() != obj.Size {
		f.Close()
		return nil, fmt.Errorf("s3: %s is %d bytes, want %d: the file changed since it was hashed", obj.Path, st.Size(), obj.Size)
	}
	return f, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// explain replaces the text of the S3 refusals a user causes with what to
// check; the SDK's error stays in the chain.
func (s *Store) explain(err error) error {
	switch code := apiCode(err); code {
	case "NoSuchBucket":
		return &explained{fmt.Sprintf("bucket %q does not exist: check the bucket name, the endpoint and the region", s.bucket), err}
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "XAdminUserNotFound", "ExpiredToken", "InvalidToken", "AccessDenied":
		return &explained{fmt.Sprintf("the S3 credentials were refused (%s): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the role assumed", code), err}
	}
	return err
}

type explained struct {
	text string
	err  error
}

func (e *explained) Error() string { return e.text }
func (e *explained) Unwrap() error { return e.err }

func isConflict(err error) bool {
	var ce *ConflictError
	return errors.As(err, &ce)
}

func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	return apiCode(err) == "NotFound" || apiCode(err) == "NoSuchKey"
}

// isPreconditionFailed reports a refused conditional write. S3 answers 412,
// or 409 ConditionalRequestConflict while a competing write is in flight.
func isPreconditionFailed(err error) bool {
	switch apiCode(err) {
	case "PreconditionFailed", "ConditionalRequestConflict":
		return true
	}
	return false
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// progressReader reports bytes read; a rewind for a retry reports the
// bytes again only past the furthest point reached.
type progressReader struct {
	r        io.ReadSeeker
	pos, max int64
	report   func(int64)
}

func newProgressReader(r io.ReadSeeker, report func(int64)) io.ReadSeeker {
	if report == nil {
		return r
	}
	return &progressReader{r: r, report: report}
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.pos += int64(n)
	if p.pos > p.max {
		p.report(p.pos - p.max)
		p.max = p.pos
	}
	return n, err
}

func (p *progressReader) Seek(off int64, whence int) (int64, error) {
	n, err := p.r.Seek(off, whence)
	if err == nil {
		p.pos = n
	}
	return n, err
}

// Keys are "/"-separated; reject anything that would escape a prefix.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "//") {
		return fmt.Errorf("s3: bad key %q", key)
	}
	for _, part := range strings.Split(key, "/") {
		if part == "." || part == ".." {
			return fmt.Errorf("s3: bad key %q: no . or .. segments", key)
		}
	}
	return nil
}
