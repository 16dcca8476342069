package admin

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/herdhq/herd/internal/api/httpjson"
	"github.com/herdhq/herd/internal/auth"
	"github.com/herdhq/herd/internal/jobs"
)

// API serves /herd/v1.
type API struct {
	auth       *auth.Service
	jobs       *jobs.Service
	json       httpjson.Decoder
	writeError func(http.ResponseWriter, *http.Request, error)
}

// New returns the management API.
func New(a *auth.Service, j *jobs.Service, log *slog.Logger, maxBody int64) *API {
	return &API{auth: a, jobs: j, json: httpjson.Decoder{MaxBytes: maxBody}, writeError: httpjson.CodedErrorWriter(log)}
}

// Register adds the routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	guard := a.auth.Require(auth.Guard{
		Schemes: auth.Basic | auth.Session | auth.Bearer | auth.CredentialHeaders | auth.Signature,
		Realm:   "Herd",
		Service: "herd",
		Fail:    a.writeError,
	})
	handle := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, guard(h)) }
	handle("GET /herd/v1/whoami", a.whoami)
	handle("POST /herd/v1/logout", a.logout)
	handle("GET /herd/v1/users", a.listUsers)
	handle("POST /herd/v1/users", a.createUser)
	handle("GET /herd/v1/users/{name}", a.getUser)
	handle("PATCH /herd/v1/users/{name}", a.updateUser)
	handle("DELETE /herd/v1/users/{name}", a.deleteUser)
	handle("GET /herd/v1/virtual-clusters", a.listVCs)
	handle("POST /herd/v1/virtual-clusters", a.createVC)
	handle("GET /herd/v1/virtual-clusters/{id}", a.getVC)
	handle("PATCH /herd/v1/virtual-clusters/{id}", a.updateVC)
	handle("DELETE /herd/v1/virtual-clusters/{id}", a.deleteVC)
}

// Whoami describes the caller.
type Whoami struct {
	User        string `json:"user"`
	Role        string `json:"role"`
	Method      string `json:"authMethod"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
	CRN         string `json:"crn"`
}

func (a *API) whoami(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.PrincipalFrom(r.Context())
	httpjson.Write(w, http.StatusOK, Whoami{User: p.User, Role: string(p.Role), Method: string(p.Method), AccessKeyID: p.AccessKeyID, CRN: a.auth.UserCRN(p.User)})
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(auth.SessionCookie); err == nil {
		if err := a.auth.EndSession(r.Context(), c.Value); err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: "", Path: "/", MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}

// User is a user on the wire.
type User struct {
	Name              string `json:"name"`
	Role              string `json:"role"`
	CreatedAt         string `json:"createdAt"`
	UpdatedAt         string `json:"updatedAt"`
	PasswordChangedAt string `json:"passwordChangedAt"`
}

func wireUser(u auth.User) User {
	return User{
		Name: u.Name, Role: string(u.Role),
		CreatedAt: rfc3339(u.CreatedAt), UpdatedAt: rfc3339(u.UpdatedAt), PasswordChangedAt: rfc3339(u.PasswordChangedAt),
	}
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// UserList is the answer of GET /herd/v1/users.
type UserList struct {
	Users []User `json:"users"`
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.PrincipalFrom(r.Context())
	users, err := a.auth.ListUsers(r.Context(), p)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := UserList{Users: make([]User, len(users))}
	for i, u := range users {
		out.Users[i] = wireUser(u)
	}
	httpjson.Write(w, http.StatusOK, out)
}

// CreateUserRequest is the body of POST /herd/v1/users.
type CreateUserRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	Role     string `json:"role"`
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) {
	var req CreateUserRequest
	if err := a.json.Decode(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	if req.Role == "" {
		req.Role = string(auth.RoleUser)
	}
	p, _ := auth.PrincipalFrom(r.Context())
	u, err := a.auth.CreateUser(r.Context(), p, req.Name, req.Password, auth.Role(req.Role))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, wireUser(u))
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.PrincipalFrom(r.Context())
	u, err := a.auth.GetUser(r.Context(), p, r.PathValue("name"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, wireUser(u))
}

// UpdateUserRequest is the body of PATCH /herd/v1/users/{name}.
type UpdateUserRequest struct {
	Role            *string `json:"role"`
	Password        *string `json:"password"`
	CurrentPassword string  `json:"currentPassword"`
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) {
	var req UpdateUserRequest
	if err := a.json.Decode(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	up := auth.UserUpdate{Password: req.Password, CurrentPassword: req.CurrentPassword}
	if req.Role != nil {
		role := auth.Role(*req.Role)
		up.Role = &role
	}
	p, _ := auth.PrincipalFrom(r.Context())
	u, err := a.auth.UpdateUser(r.Context(), p, r.PathValue("name"), up)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, wireUser(u))
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.PrincipalFrom(r.Context())
	if err := a.auth.DeleteUser(r.Context(), p, r.PathValue("name")); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
