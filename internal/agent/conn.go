package agent

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/herdhq/herd/internal/agentapi"
)

// serverLoop registers the host if it has no identity yet, then runs the
// heartbeat and desired-state loops until ctx is cancelled.
func (a *Agent) serverLoop(ctx context.Context) {
	a.mu.Lock()
	registered := a.id.HostID != ""
	a.mu.Unlock()
	if !registered && !a.registerLoop(ctx) {
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { a.heartbeatLoop(ctx) })
	wg.Go(func() { a.desiredLoop(ctx) })
	wg.Wait()
}

// registerLoop registers until it succeeds (true) or ctx is cancelled.
func (a *Agent) registerLoop(ctx context.Context) bool {
	fails := streak{log: a.log, what: "registration"}
	for {
		err := a.register(ctx)
		if err == nil {
			fails.ok()
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if !sleep(ctx, fails.fail(err, a.t.retryMin, a.t.retryMax), nil) {
			return false
		}
	}
}

// register registers the host with the token, keeping its host id if it
// has one, and saves the identity the server answers with.
func (a *Agent) register(ctx context.Context) error {
	a.mu.Lock()
	hostID := a.id.HostID
	a.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, a.t.requestTimeout)
	defer cancel()
	reg, err := a.client.register(ctx, agentapi.Register{
		Token: a.cfg.Token, HostID: hostID, Hostname: a.cfg.Hostname, Address: a.cfg.Address, Facts: a.facts(),
	})
	if err != nil {
		return err
	}
	id := identity{HostID: reg.HostID, Secret: reg.Secret, Server: a.cfg.ServerURL}
	if err := saveIdentity(a.cfg.DataDir, id); err != nil {
		return err
	}
	a.mu.Lock()
	a.id = id
	a.mu.Unlock()
	a.setInterval(reg.HeartbeatInterval)
	a.log.Info("host registered", "host_id", reg.HostID, "heartbeat_interval", time.Duration(reg.HeartbeatInterval))
	return nil
}

// heartbeatLoop reports to the server every heartbeat interval, and at once
// when a role changes. A 401 answer means the server no longer accepts the
// host's identity: with a token, the agent registers again under the same
// host id; without one it keeps trying (an admin may restore the host).
func (a *Agent) heartbeatLoop(ctx context.Context) {
	fails := streak{log: a.log, what: "heartbeat"}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		kick := a.hbKick
		if fails.failing() {
			kick = nil // a change does not cut a backoff short
		}
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-kick:
		}
		err := a.heartbeat(ctx)
		if isUnauthorized(err) {
			if a.cfg.Token != "" {
				if fails.failing() {
					a.log.Debug("the server refused the host's credentials again; registering again", "err", err)
				} else {
					a.log.Warn("the server refused the host's credentials; registering again with the host token", "err", err)
				}
				if err = a.register(ctx); err == nil {
					err = a.heartbeat(ctx)
				}
			} else {
				a.log.Debug("the server refused the host's credentials and no host token is configured", "err", err)
				err = unauthorizedWithoutToken{err}
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			timer.Reset(fails.fail(err, a.t.retryMin, a.t.retryMax))
			continue
		}
		fails.ok()
		timer.Reset(a.heartbeatInterval())
	}
}

// unauthorizedWithoutToken explains a 401 the agent cannot recover from by
// itself.
type unauthorizedWithoutToken struct{ err error }

func (e unauthorizedWithoutToken) Error() string {
	return e.err.Error() + " (the server does not know this host's identity; " +
		"restart the agent with a host token (--token) to register it again, or remove agent.json)"
}

func (e unauthorizedWithoutToken) Unwrap() error { return e.err }

// heartbeat sends one heartbeat.
func (a *Agent) heartbeat(ctx context.Context) error {
	a.mu.Lock()
	id := a.id
	a.mu.Unlock()
	hb := agentapi.Heartbeat{Facts: a.facts(), DesiredHash: a.appliedHash(), Roles: a.statuses()}
	ctx, cancel := context.WithTimeout(ctx, a.t.requestTimeout)
	defer cancel()
	reply, err := a.client.heartbeat(ctx, id, hb)
	if err != nil {
		return err
	}
	a.setInterval(reply.HeartbeatInterval)
	if reply.DesiredHash != hb.DesiredHash {
		a.kickPoll()
	}
	return nil
}

// desiredLoop long-polls the desired state and applies each new one.
func (a *Agent) desiredLoop(ctx context.Context) {
	fails := streak{log: a.log, what: "desired state poll"}
	applied := false
	for {
		after := a.appliedHash()
		a.mu.Lock()
		id := a.id
		a.mu.Unlock()
		began := time.Now()
		pctx, cancel := context.WithTimeout(ctx, agentapi.WaitTimeout+a.t.pollSlack)
		d, fresh, err := a.client.desired(pctx, id, after)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !sleep(ctx, fails.fail(err, a.t.retryMin, a.t.retryMax), a.pollKick) {
				return
			}
			continue
		}
		fails.ok()
		if fresh && (d.Hash != after || !applied) {
			a.apply(ctx, d)
			applied = true
			continue
		}
		// An answer without change that came at once (not after a wait)
		// must not turn the long poll into a busy loop.
		if time.Since(began) < a.t.minPollInterval && !sleep(ctx, a.t.minPollInterval, a.pollKick) {
			return
		}
	}
}

// sleep waits d, or until kick fires; false when ctx is cancelled.
func sleep(ctx context.Context, d time.Duration, kick <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-kick:
	}
	return true
}

// streak logs the failures of a repeated call once per streak, and counts
// them for the backoff.
type streak struct {
	log  *slog.Logger
	what string
	n    int
}

func (s *streak) failing() bool { return s.n > 0 }

// fail records a failure and returns how long to wait before the next try.
func (s *streak) fail(err error, lo, hi time.Duration) time.Duration {
	if s.n == 0 {
		s.log.Warn(s.what+" failed; retrying with backoff (further failures are logged at debug level)", "err", err)
	} else {
		s.log.Debug(s.what+" failed again", "err", err, "failures", s.n+1)
	}
	d := backoff(s.n, lo, hi)
	s.n++
	// Up to 20% jitter, so that hosts that lost the server together do not
	// come back together.
	return d + rand.N(d/5+1)
}

func (s *streak) ok() {
	if s.n > 0 {
		s.log.Info(s.what+" works again", "failures", s.n)
	}
	s.n = 0
}

// backoff is lo doubled n times, at most hi.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 0; i < n && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}
