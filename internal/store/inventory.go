package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// HostTokenRow is a host token: its hash only.
type HostTokenRow struct {
	ID          string
	Hash        []byte
	Description string
	CreatedBy   string
	CreatedAt   time.Time
	ExpiresAt   time.Time // zero: never
}

// InsertHostToken stores a host token.
func (q *Queries) InsertHostToken(ctx context.Context, t HostTokenRow) error {
	_, err := q.exec(ctx, "insert host token",
		`INSERT INTO host_tokens (id, token_hash, description, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.ID, t.Hash, t.Description, t.CreatedBy, ms(t.CreatedAt), nullMS(t.ExpiresAt))
	return err
}

// HostTokenByHash finds a host token by the hash of its secret.
func (q *Queries) HostTokenByHash(ctx context.Context, hash []byte) (HostTokenRow, error) {
	var t HostTokenRow
	var created int64
	var expires sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT id, token_hash, description, created_by, created_at, expires_at FROM host_tokens WHERE token_hash = $1`, hash).
		Scan(&t.ID, &t.Hash, &t.Description, &t.CreatedBy, &created, &expires)
	if err != nil {
		return HostTokenRow{}, fmt.Errorf("get host token: %w", classify(err))
	}
	t.CreatedAt, t.ExpiresAt = fromMS(created), fromNullMS(expires)
	return t, nil
}

// ClusterRow is a cluster.
type ClusterRow struct {
	Name        string
	DisplayName string
	Version     string
	FullVersion string
	UUID        string
	CreatedAt   time.Time
}

const clusterCols = `name, display_name, version, full_version, uuid, created_at`

func scanCluster(s interface{ Scan(...any) error }) (ClusterRow, error) {
	var c ClusterRow
	var created int64
	err := s.Scan(&c.Name, &c.DisplayName, &c.Version, &c.FullVersion, &c.UUID, &created)
	c.CreatedAt = fromMS(created)
	return c, err
}

// InsertCluster stores a new cluster.
func (q *Queries) InsertCluster(ctx context.Context, c ClusterRow) error {
	_, err := q.exec(ctx, "insert cluster", `INSERT INTO clusters (`+clusterCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.Name, c.DisplayName, c.Version, c.FullVersion, c.UUID, ms(c.CreatedAt))
	return err
}

// GetCluster returns a cluster by name.
func (q *Queries) GetCluster(ctx context.Context, name string) (ClusterRow, error) {
	c, err := scanCluster(q.q.QueryRowContext(ctx, `SELECT `+clusterCols+` FROM clusters WHERE name = $1`, name))
	if err != nil {
		return ClusterRow{}, fmt.Errorf("get cluster: %w", classify(err))
	}
	return c, nil
}

// ListClusters returns every cluster by name.
func (q *Queries) ListClusters(ctx context.Context) ([]ClusterRow, error) {
	return queryAll(ctx, q, "list clusters", scanCluster, `SELECT `+clusterCols+` FROM clusters ORDER BY name`)
}

// DeleteCluster deletes a cluster (its services, groups and roles go with
// it; its hosts are released).
func (q *Queries) DeleteCluster(ctx context.Context, name string) error {
	if _, err := q.exec(ctx, "delete cluster roles", `DELETE FROM roles WHERE cluster_name = $1`, name); err != nil {
		return err
	}
	if _, err := q.exec(ctx, "release cluster hosts", `UPDATE hosts SET cluster_name = NULL WHERE cluster_name = $1`, name); err != nil {
		return err
	}
	return q.execOne(ctx, "delete cluster", `DELETE FROM clusters WHERE name = $1`, name)
}

// HostRow is a host.
type HostRow struct {
	ID         string
	Hostname   string
	Address    string
	Rack       string
	Cluster    string // empty: in no cluster
	SecretHash []byte
	Facts      json.RawMessage
	CreatedAt  time.Time
	LastSeenAt time.Time
}

const hostCols = `id, hostname, address, rack, cluster_name, secret_hash, facts, created_at, last_seen_at`

func scanHost(s interface{ Scan(...any) error }) (HostRow, error) {
	var h HostRow
	var cluster sql.NullString
	var facts string
	var created int64
	var seen sql.NullInt64
	err := s.Scan(&h.ID, &h.Hostname, &h.Address, &h.Rack, &cluster, &h.SecretHash, &facts, &created, &seen)
	h.Cluster, h.Facts, h.CreatedAt, h.LastSeenAt = cluster.String, json.RawMessage(facts), fromMS(created), fromNullMS(seen)
	return h, err
}

// InsertHost stores a new host.
func (q *Queries) InsertHost(ctx context.Context, h HostRow) error {
	if len(h.Facts) == 0 {
		h.Facts = json.RawMessage("{}")
	}
	_, err := q.exec(ctx, "insert host", `INSERT INTO hosts (`+hostCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		h.ID, h.Hostname, h.Address, h.Rack, nullString(h.Cluster), h.SecretHash, string(h.Facts), ms(h.CreatedAt), nullMS(h.LastSeenAt))
	return err
}

// UpdateHostAgent records a (re-)registration of a host's agent.
func (q *Queries) UpdateHostAgent(ctx context.Context, id, hostname, address string, secretHash []byte, facts json.RawMessage, seen time.Time) error {
	return q.execOne(ctx, "update host agent",
		`UPDATE hosts SET hostname = $2, address = $3, secret_hash = $4, facts = $5, last_seen_at = $6 WHERE id = $1`,
		id, hostname, address, secretHash, string(facts), ms(seen))
}

// TouchHost records the facts and last contact of a host.
func (q *Queries) TouchHost(ctx context.Context, id string, facts json.RawMessage, seen time.Time) error {
	return q.execOne(ctx, "touch host", `UPDATE hosts SET facts = $2, last_seen_at = $3 WHERE id = $1`, id, string(facts), ms(seen))
}

// SetHostCluster puts a host into a cluster, or takes it out (cluster "").
func (q *Queries) SetHostCluster(ctx context.Context, id, cluster string) error {
	return q.execOne(ctx, "set host cluster", `UPDATE hosts SET cluster_name = $2 WHERE id = $1`, id, nullString(cluster))
}

// GetHost returns a host by id.
func (q *Queries) GetHost(ctx context.Context, id string) (HostRow, error) {
	h, err := scanHost(q.q.QueryRowContext(ctx, `SELECT `+hostCols+` FROM hosts WHERE id = $1`, id))
	if err != nil {
		return HostRow{}, fmt.Errorf("get host: %w", classify(err))
	}
	return h, nil
}

// ListHosts returns the hosts, all or those of one cluster, by id.
func (q *Queries) ListHosts(ctx context.Context, cluster string) ([]HostRow, error) {
	if cluster == "" {
		return queryAll(ctx, q, "list hosts", scanHost, `SELECT `+hostCols+` FROM hosts ORDER BY id`)
	}
	return queryAll(ctx, q, "list hosts", scanHost, `SELECT `+hostCols+` FROM hosts WHERE cluster_name = $1 ORDER BY id`, cluster)
}

// DeleteHost deletes a host.
func (q *Queries) DeleteHost(ctx context.Context, id string) error {
	return q.execOne(ctx, "delete host", `DELETE FROM hosts WHERE id = $1`, id)
}

// ServiceRow is a service of a cluster.
type ServiceRow struct {
	Cluster     string
	Name        string
	Type        string
	DisplayName string
	Config      map[string]string
	CreatedAt   time.Time
}

const serviceCols = `cluster_name, name, type, display_name, config, created_at`

func scanService(s interface{ Scan(...any) error }) (ServiceRow, error) {
	var r ServiceRow
	var config string
	var created int64
	if err := s.Scan(&r.Cluster, &r.Name, &r.Type, &r.DisplayName, &config, &created); err != nil {
		return r, err
	}
	r.CreatedAt = fromMS(created)
	return r, json.Unmarshal([]byte(config), &r.Config)
}

func configJSON(m map[string]string) string {
	if m == nil {
		m = map[string]string{}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// InsertService stores a new service.
func (q *Queries) InsertService(ctx context.Context, s ServiceRow) error {
	_, err := q.exec(ctx, "insert service", `INSERT INTO services (`+serviceCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		s.Cluster, s.Name, s.Type, s.DisplayName, configJSON(s.Config), ms(s.CreatedAt))
	return err
}

// GetService returns one service.
func (q *Queries) GetService(ctx context.Context, cluster, name string) (ServiceRow, error) {
	s, err := scanService(q.q.QueryRowContext(ctx, `SELECT `+serviceCols+` FROM services WHERE cluster_name = $1 AND name = $2`, cluster, name))
	if err != nil {
		return ServiceRow{}, fmt.Errorf("get service: %w", classify(err))
	}
	return s, nil
}

// ListServices returns a cluster's services by name.
func (q *Queries) ListServices(ctx context.Context, cluster string) ([]ServiceRow, error) {
	return queryAll(ctx, q, "list services", scanService, `SELECT `+serviceCols+` FROM services WHERE cluster_name = $1 ORDER BY name`, cluster)
}

// SetServiceConfig replaces a service's set values.
func (q *Queries) SetServiceConfig(ctx context.Context, cluster, name string, config map[string]string) error {
	return q.execOne(ctx, "set service config", `UPDATE services SET config = $3 WHERE cluster_name = $1 AND name = $2`, cluster, name, configJSON(config))
}

// DeleteService deletes a service with its groups and roles.
func (q *Queries) DeleteService(ctx context.Context, cluster, name string) error {
	if _, err := q.exec(ctx, "delete service roles", `DELETE FROM roles WHERE cluster_name = $1 AND service_name = $2`, cluster, name); err != nil {
		return err
	}
	return q.execOne(ctx, "delete service", `DELETE FROM services WHERE cluster_name = $1 AND name = $2`, cluster, name)
}

// GroupRow is a role config group.
type GroupRow struct {
	Cluster     string
	Service     string
	Name        string
	RoleType    string
	DisplayName string
	Base        bool
	Config      map[string]string
}

const groupCols = `cluster_name, service_name, name, role_type, display_name, base, config`

func scanGroup(s interface{ Scan(...any) error }) (GroupRow, error) {
	var g GroupRow
	var config string
	if err := s.Scan(&g.Cluster, &g.Service, &g.Name, &g.RoleType, &g.DisplayName, &g.Base, &config); err != nil {
		return g, err
	}
	return g, json.Unmarshal([]byte(config), &g.Config)
}

// InsertGroup stores a role config group.
func (q *Queries) InsertGroup(ctx context.Context, g GroupRow) error {
	_, err := q.exec(ctx, "insert role config group", `INSERT INTO role_config_groups (`+groupCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		g.Cluster, g.Service, g.Name, g.RoleType, g.DisplayName, g.Base, configJSON(g.Config))
	return err
}

// GetGroup returns one role config group.
func (q *Queries) GetGroup(ctx context.Context, cluster, service, name string) (GroupRow, error) {
	g, err := scanGroup(q.q.QueryRowContext(ctx, `SELECT `+groupCols+` FROM role_config_groups WHERE cluster_name = $1 AND service_name = $2 AND name = $3`, cluster, service, name))
	if err != nil {
		return GroupRow{}, fmt.Errorf("get role config group: %w", classify(err))
	}
	return g, nil
}

// ListGroups returns a service's role config groups by name.
func (q *Queries) ListGroups(ctx context.Context, cluster, service string) ([]GroupRow, error) {
	return queryAll(ctx, q, "list role config groups", scanGroup,
		`SELECT `+groupCols+` FROM role_config_groups WHERE cluster_name = $1 AND service_name = $2 ORDER BY name`, cluster, service)
}

// SetGroupConfig replaces a group's set values.
func (q *Queries) SetGroupConfig(ctx context.Context, cluster, service, name string, config map[string]string) error {
	return q.execOne(ctx, "set role config group config",
		`UPDATE role_config_groups SET config = $4 WHERE cluster_name = $1 AND service_name = $2 AND name = $3`, cluster, service, name, configJSON(config))
}

// RoleRow is a role.
type RoleRow struct {
	Name            string
	Cluster         string
	Service         string
	Type            string
	HostID          string
	Group           string
	Desired         string // STARTED or STOPPED
	StartSeq        int64
	CommissionState string
	CreatedAt       time.Time
}

const roleCols = `name, cluster_name, service_name, type, host_id, group_name, desired, start_seq, commission_state, created_at`

func scanRole(s interface{ Scan(...any) error }) (RoleRow, error) {
	var r RoleRow
	var created int64
	err := s.Scan(&r.Name, &r.Cluster, &r.Service, &r.Type, &r.HostID, &r.Group, &r.Desired, &r.StartSeq, &r.CommissionState, &created)
	r.CreatedAt = fromMS(created)
	return r, err
}

// InsertRole stores a new role.
func (q *Queries) InsertRole(ctx context.Context, r RoleRow) error {
	_, err := q.exec(ctx, "insert role", `INSERT INTO roles (`+roleCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		r.Name, r.Cluster, r.Service, r.Type, r.HostID, r.Group, r.Desired, r.StartSeq, r.CommissionState, ms(r.CreatedAt))
	return err
}

// GetRole returns a role by name.
func (q *Queries) GetRole(ctx context.Context, name string) (RoleRow, error) {
	r, err := scanRole(q.q.QueryRowContext(ctx, `SELECT `+roleCols+` FROM roles WHERE name = $1`, name))
	if err != nil {
		return RoleRow{}, fmt.Errorf("get role: %w", classify(err))
	}
	return r, nil
}

// ListRoles returns the roles of a service (or of a cluster when service is
// empty), by name.
func (q *Queries) ListRoles(ctx context.Context, cluster, service string) ([]RoleRow, error) {
	if service == "" {
		return queryAll(ctx, q, "list roles", scanRole, `SELECT `+roleCols+` FROM roles WHERE cluster_name = $1 ORDER BY name`, cluster)
	}
	return queryAll(ctx, q, "list roles", scanRole, `SELECT `+roleCols+` FROM roles WHERE cluster_name = $1 AND service_name = $2 ORDER BY name`, cluster, service)
}

// ListAllRoles returns every role, by name.
func (q *Queries) ListAllRoles(ctx context.Context) ([]RoleRow, error) {
	return queryAll(ctx, q, "list roles", scanRole, `SELECT `+roleCols+` FROM roles ORDER BY name`)
}

// ListHostRoles returns the roles on a host, by name.
func (q *Queries) ListHostRoles(ctx context.Context, hostID string) ([]RoleRow, error) {
	return queryAll(ctx, q, "list host roles", scanRole, `SELECT `+roleCols+` FROM roles WHERE host_id = $1 ORDER BY name`, hostID)
}

// SetRoleDesired sets what a role's process should do; a start also counts
// up its start sequence.
func (q *Queries) SetRoleDesired(ctx context.Context, name, desired string, start bool) error {
	inc := 0
	if start {
		inc = 1
	}
	return q.execOne(ctx, "set role desired state", `UPDATE roles SET desired = $2, start_seq = start_seq + $3 WHERE name = $1`, name, desired, inc)
}

// DeleteRole deletes a role.
func (q *Queries) DeleteRole(ctx context.Context, name string) error {
	return q.execOne(ctx, "delete role", `DELETE FROM roles WHERE name = $1`, name)
}

// CommandRow is a command.
type CommandRow struct {
	ID            int64
	Name          string
	ParentID      int64 // 0: none
	Cluster       string
	Service       string
	Role          string
	HostID        string
	Active        bool
	Success       *bool
	ResultMessage string
	StartedAt     time.Time
	EndedAt       time.Time
}

const commandCols = `id, name, parent_id, cluster_name, service_name, role_name, host_id, active, success, result_message, started_at, ended_at`

func scanCommand(s interface{ Scan(...any) error }) (CommandRow, error) {
	var c CommandRow
	var parent sql.NullInt64
	var success sql.NullBool
	var started int64
	var ended sql.NullInt64
	err := s.Scan(&c.ID, &c.Name, &parent, &c.Cluster, &c.Service, &c.Role, &c.HostID, &c.Active, &success, &c.ResultMessage, &started, &ended)
	c.ParentID, c.StartedAt, c.EndedAt = parent.Int64, fromMS(started), fromNullMS(ended)
	if success.Valid {
		c.Success = &success.Bool
	}
	return c, err
}

// InsertCommand stores a new active command and returns its id.
func (q *Queries) InsertCommand(ctx context.Context, c CommandRow) (int64, error) {
	var id int64
	err := q.q.QueryRowContext(ctx, `INSERT INTO commands (name, parent_id, cluster_name, service_name, role_name, host_id, active, result_message, started_at)
		VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8) RETURNING id`,
		c.Name, sql.NullInt64{Int64: c.ParentID, Valid: c.ParentID != 0}, c.Cluster, c.Service, c.Role, c.HostID, c.ResultMessage, ms(c.StartedAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert command: %w", classify(err))
	}
	return id, nil
}

// EndCommand ends an active command; it is a no-op for one already ended.
func (q *Queries) EndCommand(ctx context.Context, id int64, success bool, msg string, at time.Time) error {
	_, err := q.exec(ctx, "end command", `UPDATE commands SET active = 0, success = $2, result_message = $3, ended_at = $4 WHERE id = $1 AND active = 1`,
		id, success, msg, ms(at))
	return err
}

// SetCommandMessage updates an active command's progress message.
func (q *Queries) SetCommandMessage(ctx context.Context, id int64, msg string) error {
	_, err := q.exec(ctx, "set command message", `UPDATE commands SET result_message = $2 WHERE id = $1 AND active = 1`, id, msg)
	return err
}

// GetCommand returns a command by id.
func (q *Queries) GetCommand(ctx context.Context, id int64) (CommandRow, error) {
	c, err := scanCommand(q.q.QueryRowContext(ctx, `SELECT `+commandCols+` FROM commands WHERE id = $1`, id))
	if err != nil {
		return CommandRow{}, fmt.Errorf("get command: %w", classify(err))
	}
	return c, nil
}

// ChildCommands returns a command's children by id.
func (q *Queries) ChildCommands(ctx context.Context, parent int64) ([]CommandRow, error) {
	return queryAll(ctx, q, "list child commands", scanCommand, `SELECT `+commandCols+` FROM commands WHERE parent_id = $1 ORDER BY id`, parent)
}

// ActiveCommands returns the active commands by id.
func (q *Queries) ActiveCommands(ctx context.Context) ([]CommandRow, error) {
	return queryAll(ctx, q, "list active commands", scanCommand, `SELECT `+commandCols+` FROM commands WHERE active = 1 ORDER BY id`)
}

func queryAll[T any](ctx context.Context, q *Queries, what string, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, classify(err))
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// SetRoleCommissionState sets a role's commission state.
func (q *Queries) SetRoleCommissionState(ctx context.Context, name, state string) error {
	return q.execOne(ctx, "set role commission state", `UPDATE roles SET commission_state = $2 WHERE name = $1`, name, state)
}
