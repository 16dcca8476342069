package jobs

import (
	"context"
	"crypto/sha1" //nolint:gosec // the CDE signature format, not a security control
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth"
	"github.com/herdhq/herd/internal/blobstore"
	"github.com/herdhq/herd/internal/store"
)

// Resource types.
const (
	ResourceFiles        = "files"
	ResourcePythonEnv    = "python-env"
	ResourceRuntimeImage = "custom-runtime-image"
)

// Resource statuses.
const (
	StatusReady        = "ready"
	StatusPendingBuild = "pending-build"
)

// RequirementsFile is the one file a python-env resource holds.
const RequirementsFile = "requirements.txt"

// ResourceSpec is the type-specific part of a resource, stored as JSON.
type ResourceSpec struct {
	RetentionPolicy    string              `json:"retentionPolicy"`
	Hidden             bool                `json:"hidden,omitempty"`
	PythonEnv          *PythonEnv          `json:"pythonEnv,omitempty"`
	CustomRuntimeImage *CustomRuntimeImage `json:"customRuntimeImage,omitempty"`
}

// PythonEnv describes a python-env resource.
type PythonEnv struct {
	PythonVersion string `json:"pythonVersion"`
}

// CustomRuntimeImage describes a custom-runtime-image resource.
type CustomRuntimeImage struct {
	Engine     string `json:"engine,omitempty"`
	Image      string `json:"image"`
	Credential string `json:"credential,omitempty"`
}

// NewResource is what creating a resource takes.
type NewResource struct {
	Name string
	Type string // files when empty
	ResourceSpec
}

// Resource is a stored resource.
type Resource struct {
	Name      string
	Type      string
	Status    string
	Signature string // SHA-1 over the files' paths and signatures
	ResourceSpec
	CreatedBy string
	Created   time.Time
	Modified  time.Time
	LastUsed  time.Time
	Files     []File // filled when asked for
	Build     *Build // a python-env's environment
}

// File is a file of a resource.
type File struct {
	Path      string
	Signature string // SHA-1 of the content, hex
	SizeBytes int64
	Created   time.Time
	Modified  time.Time
	blobID    string
}

func resourceFromRow(r store.ResourceRow) (Resource, error) {
	var spec ResourceSpec
	if err := json.Unmarshal([]byte(r.Spec), &spec); err != nil {
		return Resource{}, fmt.Errorf("decode resource %s: %w", r.Name, err)
	}
	res := Resource{
		Name: r.Name, Type: r.Type, Status: r.Status, Signature: r.Signature, ResourceSpec: spec,
		CreatedBy: r.CreatedBy, Created: r.CreatedAt, Modified: r.ModifiedAt, LastUsed: r.LastUsedAt,
	}
	if r.Type == ResourcePythonEnv {
		b := decodeBuild(r.Build)
		res.Build = &b
	}
	return res, nil
}

func fileFromRow(f store.ResourceFileRow) File {
	return File{Path: f.Path, Signature: f.SHA1, SizeBytes: f.SizeBytes, Created: f.CreatedAt, Modified: f.ModifiedAt, blobID: f.BlobID}
}

// emptySignature is the signature of a resource without files.
var emptySignature = signature(nil)

// signature digests the paths and content signatures of files.
func signature(files []store.ResourceFileRow) string {
	h := sha1.New() //nolint:gosec // see import
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%s\n", f.Path, f.SHA1)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// CreateResource validates and stores a new, empty resource.
func (s *Service) CreateResource(ctx context.Context, p auth.Principal, vc string, in NewResource) (Resource, error) {
	if err := requireWrite(p); err != nil {
		return Resource{}, err
	}
	if err := ValidName("resource", in.Name); err != nil {
		return Resource{}, err
	}
	if in.Type == "" {
		in.Type = ResourceFiles
	}
	if in.RetentionPolicy == "" {
		in.RetentionPolicy = KeepIndefinitely
	}
	var pr problems
	if in.RetentionPolicy != KeepIndefinitely && in.RetentionPolicy != DeleteAfterRun {
		pr.add("retentionPolicy %q is not one of %s, %s", in.RetentionPolicy, KeepIndefinitely, DeleteAfterRun)
	}
	status := StatusReady
	switch in.Type {
	case ResourceFiles:
		if in.PythonEnv != nil || in.CustomRuntimeImage != nil {
			pr.add("a files resource takes neither pythonEnv nor customRuntimeImage")
		}
	case ResourcePythonEnv:
		status = StatusPendingBuild
		if in.CustomRuntimeImage != nil {
			pr.add("a python-env resource takes no customRuntimeImage")
		}
		if in.PythonEnv == nil {
			in.PythonEnv = &PythonEnv{}
		}
		if in.PythonEnv.PythonVersion == "" {
			in.PythonEnv.PythonVersion = "python3"
		}
		if in.PythonEnv.PythonVersion != "python3" {
			pr.add("pythonEnv.pythonVersion %q is not supported: use python3", in.PythonEnv.PythonVersion)
		}
	case ResourceRuntimeImage:
		if in.PythonEnv != nil {
			pr.add("a custom-runtime-image resource takes no pythonEnv")
		}
		if in.CustomRuntimeImage == nil || in.CustomRuntimeImage.Image == "" {
			pr.add("customRuntimeImage.image is required")
		}
	default:
		pr.add("unknown resource type %q: want files, python-env or custom-runtime-image", in.Type)
	}
	if err := pr.err("invalid resource " + quote(in.Name)); err != nil {
		return Resource{}, err
	}
	spec, err := json.Marshal(in.ResourceSpec)
	if err != nil {
		return Resource{}, fmt.Errorf("encode resource: %w", err)
	}
	now := s.now()
	row := store.ResourceRow{VCID: vc, Name: in.Name, Type: in.Type, Status: status, Spec: string(spec), Signature: emptySignature, CreatedBy: p.User, CreatedAt: now, ModifiedAt: now}
	err = s.db.InTx(ctx, func(q *store.Queries) error {
		if err := q.InsertResource(ctx, row); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return apperr.New(apperr.Conflict, "resource %q already exists", in.Name)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return Resource{}, err
	}
	s.log.Info("resource created", "vc", vc, "resource", in.Name, "type", in.Type, "user", p.User)
	return resourceFromRow(row)
}

// GetResource returns a resource, with its files when withFiles is set.
func (s *Service) GetResource(ctx context.Context, vc, name string, withFiles bool) (Resource, error) {
	q := s.db.Read()
	row, err := q.GetResource(ctx, vc, name)
	if err != nil {
		return Resource{}, notFound(err, "resource", name)
	}
	r, err := resourceFromRow(row)
	if err != nil || !withFiles {
		return r, err
	}
	r.Files, err = listFiles(ctx, q, vc, name)
	return r, err
}

// DeleteResource removes a resource and its files, unless a job uses it.
func (s *Service) DeleteResource(ctx context.Context, p auth.Principal, vc, name string) error {
	if err := requireWrite(p); err != nil {
		return err
	}
	var blobs []string
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		if _, err := q.GetResource(ctx, vc, name); err != nil {
			return notFound(err, "resource", name)
		}
		if err := inUse(ctx, q, vc, store.Ref{Kind: "resource", Name: name}); err != nil {
			return err
		}
		files, err := q.ListResourceFiles(ctx, vc, name)
		if err != nil {
			return err
		}
		for _, f := range files {
			blobs = append(blobs, f.BlobID)
		}
		return q.DeleteResource(ctx, vc, name)
	})
	if err != nil {
		return err
	}
	s.dropBlobs(blobs...)
	if err := os.RemoveAll(s.pyenvDir(vc, name)); err != nil {
		s.log.Warn("remove the built python environments of a resource", "resource", name, "err", err)
	}
	s.log.Info("resource deleted", "vc", vc, "resource", name, "files", len(blobs), "user", p.User)
	return nil
}

// dropBlobs deletes blobs no row points at any more. A failure only leaves
// files for the next start's sweep.
func (s *Service) dropBlobs(ids ...string) {
	if err := s.blobs.Delete(ids...); err != nil {
		s.log.Warn("could not delete resource file content; it goes at the next start", "err", err)
	}
}

// PutFile stores content as the file at path of a resource, replacing any
// file there. The content is streamed to disk, at most MaxUploadBytes of
// it; on any failure nothing changes.
func (s *Service) PutFile(ctx context.Context, p auth.Principal, vc, resource, path string, content io.Reader) (File, error) {
	if err := requireWrite(p); err != nil {
		return File{}, err
	}
	if _, err := CleanFilePath(path); err != nil {
		return File{}, err
	}
	// Check the resource before reading a possibly large body.
	res, err := s.db.Read().GetResource(ctx, vc, resource)
	if err != nil {
		return File{}, notFound(err, "resource", resource)
	}
	if err := checkFileAllowed(res.Type, path); err != nil {
		return File{}, err
	}
	blob, err := s.blobs.Put(content, s.cfg.MaxUploadBytes)
	var readErr *blobstore.ReadError
	switch {
	case errors.Is(err, blobstore.ErrTooLarge):
		return File{}, apperr.New(apperr.TooLarge, "file is larger than the upload limit of %d bytes", s.cfg.MaxUploadBytes)
	case errors.As(err, &readErr) && apperr.KindOf(err) == apperr.Internal:
		return File{}, apperr.Wrap(apperr.Invalid, err, "the upload was cut off or malformed: "+readErr.Err.Error())
	case err != nil:
		return File{}, err
	}
	now := s.now()
	row := store.ResourceFileRow{VCID: vc, ResourceName: resource, Path: path, BlobID: blob.ID, SizeBytes: blob.Size, SHA1: blob.SHA1, CreatedAt: now, ModifiedAt: now}
	var replaced string
	err = s.db.InTx(ctx, func(q *store.Queries) error {
		cur, err := q.GetResource(ctx, vc, resource) // it may have gone meanwhile
		if err != nil {
			return notFound(err, "resource", resource)
		}
		old, existed, err := q.PutResourceFile(ctx, row)
		if err != nil {
			return err
		}
		if existed {
			replaced, row.CreatedAt = old.BlobID, old.CreatedAt
		}
		return s.refreshResource(ctx, q, cur, now)
	})
	if err != nil {
		s.dropBlobs(blob.ID)
		return File{}, err
	}
	if replaced != "" {
		s.dropBlobs(replaced)
	}
	if res.Type == ResourcePythonEnv {
		s.wakeBuilder()
	}
	s.log.Info("resource file stored", "vc", vc, "resource", resource, "path", path, "bytes", blob.Size, "user", p.User)
	return fileFromRow(row), nil
}

func checkFileAllowed(resourceType, path string) error {
	switch resourceType {
	case ResourcePythonEnv:
		if path != RequirementsFile {
			return apperr.New(apperr.Invalid, "a python-env resource holds only %s, not %q", RequirementsFile, path)
		}
	case ResourceRuntimeImage:
		return apperr.New(apperr.Invalid, "a custom-runtime-image resource holds no files")
	}
	return nil
}

// refreshResource recomputes a resource's signature (and, for a python-env,
// its status) after its files changed.
func (s *Service) refreshResource(ctx context.Context, q *store.Queries, r store.ResourceRow, now time.Time) error {
	files, err := q.ListResourceFiles(ctx, r.VCID, r.Name)
	if err != nil {
		return err
	}
	status := r.Status
	if r.Type == ResourcePythonEnv {
		// The environment is built from requirements.txt by the runner; a
		// change makes the current build stale.
		status = StatusPendingBuild
	}
	return q.UpdateResourceState(ctx, r.VCID, r.Name, status, signature(files), now)
}

// OpenFile returns a file's metadata and content.
func (s *Service) OpenFile(ctx context.Context, vc, resource, path string) (File, *os.File, error) {
	f, err := s.db.Read().GetResourceFile(ctx, vc, resource, path)
	if err != nil {
		if _, rerr := s.db.Read().GetResource(ctx, vc, resource); rerr != nil {
			return File{}, nil, notFound(rerr, "resource", resource)
		}
		return File{}, nil, notFound(err, "file", path)
	}
	content, err := s.blobs.Open(f.BlobID)
	if err != nil {
		return File{}, nil, err
	}
	return fileFromRow(f), content, nil
}

// DeleteFile removes one file of a resource.
func (s *Service) DeleteFile(ctx context.Context, p auth.Principal, vc, resource, path string) error {
	if err := requireWrite(p); err != nil {
		return err
	}
	var blob string
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		cur, err := q.GetResource(ctx, vc, resource)
		if err != nil {
			return notFound(err, "resource", resource)
		}
		f, err := q.GetResourceFile(ctx, vc, resource, path)
		if err != nil {
			return notFound(err, "file", path)
		}
		blob = f.BlobID
		if err := q.DeleteResourceFile(ctx, vc, resource, path); err != nil {
			return err
		}
		return s.refreshResource(ctx, q, cur, s.now())
	})
	if err != nil {
		return err
	}
	s.dropBlobs(blob)
	s.wakeBuilder()
	s.log.Info("resource file deleted", "vc", vc, "resource", resource, "path", path, "user", p.User)
	return nil
}
