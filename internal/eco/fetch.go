package eco

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/herdhq/herd/internal/apperr"
)

// maxFetch bounds a file fetched from a URL of a request.
const maxFetch = 1 << 20

// fetch reads a file a request names by URL: http(s) with a 30 s limit,
// or file: on the server's machine. What cannot be read is the request's
// fault (400), named by field.
func fetch(ctx context.Context, field, raw string) ([]byte, error) {
	return fetchLimit(ctx, field, raw, maxFetch)
}

// fetchLimit is fetch of at most limit bytes.
func fetchLimit(ctx context.Context, field, raw string, limit int64) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "%s %q is not a URL", field, raw)
	}
	var rd io.ReadCloser
	switch u.Scheme {
	case "file":
		f, err := os.Open(u.Path)
		if err != nil {
			return nil, apperr.New(apperr.Invalid, "%s: cannot read %s: %v", field, u.Path, err)
		}
		rd = f
	case "http", "https":
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
		if err != nil {
			return nil, apperr.New(apperr.Invalid, "%s %q: %v", field, raw, err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, apperr.New(apperr.Invalid, "%s: cannot fetch %s: %v", field, raw, err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, apperr.New(apperr.Invalid, "%s: fetching %s answered %s", field, raw, resp.Status)
		}
		rd = resp.Body
	default:
		return nil, apperr.New(apperr.Invalid, "%s %q: only http, https and file URLs can be fetched", field, raw)
	}
	defer rd.Close()
	b, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "%s: reading %s: %v", field, raw, err)
	}
	if int64(len(b)) > limit {
		return nil, apperr.New(apperr.Invalid, "%s: %s is larger than %d bytes", field, raw, limit)
	}
	return b, nil
}

// resolveFiles fetches what a spec names by URL: the configuration file
// and the user script.
func resolveFiles(ctx context.Context, spec *Spec) error {
	if spec.ConfigFileURL != "" {
		b, err := fetch(ctx, "config.configFileUrl", spec.ConfigFileURL)
		if err != nil {
			return err
		}
		if spec.Configurations, err = ParseConfigurations(b, "config.configFileUrl"); err != nil {
			return err
		}
	}
	if spec.UserScriptFileURL != "" {
		b, err := fetch(ctx, "config.userScriptFileUrl", spec.UserScriptFileURL)
		if err != nil {
			return err
		}
		if len(b) == 0 {
			return apperr.New(apperr.Invalid, "config.userScriptFileUrl: %s is empty", spec.UserScriptFileURL)
		}
		spec.UserScript = b
	}
	return nil
}
