package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth"
	"github.com/herdhq/herd/internal/store"
)

// Credential types.
const (
	CredentialWorkload = "workload-credential"
	CredentialBasic    = "basic"
)

// Limits on secrets.
const (
	maxSecretKeys  = 100
	maxSecretValue = 64 << 10
)

// A secret key becomes a file name (/etc/dex/secrets/<credential>/<key>).
var secretKeyRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,252}$`)

// Credential is a stored credential, without its secret values.
type Credential struct {
	Name        string
	Type        string
	Description string
	CreatedBy   string
	Created     time.Time
	Modified    time.Time
}

// Secret holds the values of a credential: the key/value map of a
// workload credential, or the user name and password of a basic one.
type Secret struct {
	Values   map[string]string `json:"values,omitempty"`
	Username string            `json:"username,omitempty"`
	Password string            `json:"password,omitempty"`
}

// NewCredential is what creating a credential takes.
type NewCredential struct {
	Name        string
	Type        string // inferred from the secret when empty
	Description string
	Secret      Secret
}

// CredentialUpdate lists the changes of PatchCredential; nil fields stay.
type CredentialUpdate struct {
	Description *string
	Values      map[string]string // replaces a workload credential's values when not nil
	Basic       *Secret           // replaces a basic credential's user name and password
}

func credentialFromRow(r store.CredentialRow) Credential {
	return Credential{Name: r.Name, Type: r.Type, Description: r.Description, CreatedBy: r.CreatedBy, Created: r.CreatedAt, Modified: r.ModifiedAt}
}

func sealContext(vc, name string) string { return "credential/" + vc + "/" + name }

func validateSecret(typ string, sec Secret) error {
	var p problems
	switch typ {
	case CredentialWorkload:
		if len(sec.Values) == 0 {
			p.add("workloadCred must hold at least one key")
		}
		if len(sec.Values) > maxSecretKeys {
			p.add("workloadCred holds more than %d keys", maxSecretKeys)
		}
		for _, k := range sortedKeys(sec.Values) {
			if !secretKeyRE.MatchString(k) || k == "." || k == ".." {
				p.add("workloadCred key %q is not usable as a file name: use letters, digits, '.', '_' or '-'", k)
			}
			if len(sec.Values[k]) > maxSecretValue {
				p.add("workloadCred value of %q is longer than %d bytes", k, maxSecretValue)
			}
		}
	case CredentialBasic:
		if sec.Username == "" {
			p.add("basic.username is required")
		}
		if len(sec.Username) > maxSecretValue || len(sec.Password) > maxSecretValue {
			p.add("basic.username and basic.password must each be at most %d bytes", maxSecretValue)
		}
	case "":
		p.add("type is required: workload-credential or basic")
	default:
		p.add("unknown credential type %q: want workload-credential or basic", typ)
	}
	return p.err("invalid credential")
}

// CreateCredential seals and stores a new credential.
func (s *Service) CreateCredential(ctx context.Context, p auth.Principal, vc string, in NewCredential) (Credential, error) {
	if err := requireWrite(p); err != nil {
		return Credential{}, err
	}
	if err := ValidName("credential", in.Name); err != nil {
		return Credential{}, err
	}
	if in.Type == "" {
		switch {
		case in.Secret.Values != nil:
			in.Type = CredentialWorkload
		case in.Secret.Username != "":
			in.Type = CredentialBasic
		}
	}
	if err := validateSecret(in.Type, in.Secret); err != nil {
		return Credential{}, err
	}
	sealed, err := s.seal(vc, in.Name, in.Secret)
	if err != nil {
		return Credential{}, err
	}
	now := s.now()
	row := store.CredentialRow{VCID: vc, Name: in.Name, Type: in.Type, Description: in.Description, Secret: sealed, CreatedBy: p.User, CreatedAt: now, ModifiedAt: now}
	err = s.db.InTx(ctx, func(q *store.Queries) error {
		if err := q.InsertCredential(ctx, row); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return apperr.New(apperr.Conflict, "credential %q already exists", in.Name)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return Credential{}, err
	}
	s.log.Info("credential created", "vc", vc, "credential", in.Name, "type", in.Type, "user", p.User)
	return credentialFromRow(row), nil
}

func (s *Service) seal(vc, name string, sec Secret) ([]byte, error) {
	plain, err := json.Marshal(sec)
	if err != nil {
		return nil, fmt.Errorf("encode secret: %w", err)
	}
	return s.kr.Seal(sealContext(vc, name), plain)
}

// GetCredential returns a credential without its values.
func (s *Service) GetCredential(ctx context.Context, vc, name string) (Credential, error) {
	row, err := s.db.Read().GetCredential(ctx, vc, name)
	if err != nil {
		return Credential{}, notFound(err, "credential", name)
	}
	return credentialFromRow(row), nil
}

// PatchCredential replaces a credential's description or secret values.
func (s *Service) PatchCredential(ctx context.Context, p auth.Principal, vc, name string, up CredentialUpdate) (Credential, error) {
	if err := requireWrite(p); err != nil {
		return Credential{}, err
	}
	if up.Description == nil && up.Values == nil && up.Basic == nil {
		return Credential{}, apperr.New(apperr.Invalid, "nothing to change: give workloadCred, basic or description")
	}
	var out store.CredentialRow
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		cur, err := q.GetCredential(ctx, vc, name)
		if err != nil {
			return notFound(err, "credential", name)
		}
		if up.Description != nil {
			cur.Description = *up.Description
		}
		var sec *Secret
		switch {
		case up.Values != nil && cur.Type != CredentialWorkload:
			return apperr.New(apperr.Invalid, "credential %q is of type %s: workloadCred does not apply", name, cur.Type)
		case up.Basic != nil && cur.Type != CredentialBasic:
			return apperr.New(apperr.Invalid, "credential %q is of type %s: basic does not apply", name, cur.Type)
		case up.Values != nil:
			sec = &Secret{Values: up.Values}
		case up.Basic != nil:
			sec = up.Basic
		}
		if sec != nil {
			if err := validateSecret(cur.Type, *sec); err != nil {
				return err
			}
			if cur.Secret, err = s.seal(vc, name, *sec); err != nil {
				return err
			}
		}
		cur.ModifiedAt = s.now()
		out = cur
		return q.UpdateCredential(ctx, cur)
	})
	if err != nil {
		return Credential{}, err
	}
	s.log.Info("credential updated", "vc", vc, "credential", name, "user", p.User)
	return credentialFromRow(out), nil
}

// DeleteCredential removes a credential, unless a job uses it.
func (s *Service) DeleteCredential(ctx context.Context, p auth.Principal, vc, name string) error {
	if err := requireWrite(p); err != nil {
		return err
	}
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		if _, err := q.GetCredential(ctx, vc, name); err != nil {
			return notFound(err, "credential", name)
		}
		if err := inUse(ctx, q, vc, store.Ref{Kind: "credential", Name: name}); err != nil {
			return err
		}
		return q.DeleteCredential(ctx, vc, name)
	})
	if err != nil {
		return err
	}
	s.log.Info("credential deleted", "vc", vc, "credential", name, "user", p.User)
	return nil
}

// Secret opens the values of a credential, for a run that mounts them.
func (s *Service) Secret(ctx context.Context, vc, name string) (Secret, error) {
	row, err := s.db.Read().GetCredential(ctx, vc, name)
	if err != nil {
		return Secret{}, notFound(err, "credential", name)
	}
	plain, err := s.kr.Open(sealContext(vc, name), row.Secret)
	if err != nil {
		return Secret{}, err
	}
	var sec Secret
	if err := json.Unmarshal(plain, &sec); err != nil {
		return Secret{}, fmt.Errorf("decode secret of %s: %w", name, err)
	}
	return sec, nil
}
