package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/herdhq/herd/internal/agentapi"
)

// maxProbeBody bounds what the agent reads of a probe's answer.
const maxProbeBody = 4 << 20

// ensureProbes starts the probe loop of the running process, if the role
// has probes and the loop is not running yet. The loop reads the latest
// spec's probes each round.
func (s *supervisor) ensureProbes() {
	if s.probeStop != nil || s.proc == nil || s.stopping || s.gone || s.spec == nil || len(s.spec.Probes) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.probeStop = cancel
	s.mu.Lock()
	s.probeGen++
	gen := s.probeGen
	s.mu.Unlock()
	s.a.wg.Go(func() { s.probeLoop(ctx, gen) })
}

// stopProbes ends the probe loop and forgets its results.
func (s *supervisor) stopProbes() {
	if s.probeStop != nil {
		s.probeStop()
		s.probeStop = nil
	}
	s.mu.Lock()
	s.probeGen++
	s.probeRes = nil
	s.mu.Unlock()
}

// probeLoop checks the role's probes every heartbeat interval, and asks
// for a heartbeat when a result changes.
func (s *supervisor) probeLoop(ctx context.Context, gen int) {
	t := time.NewTimer(s.a.heartbeatInterval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		probes := s.probeSpecs
		s.mu.Unlock()
		res := make(map[string]agentapi.ProbeResult, len(probes))
		for _, p := range probes {
			res[p.Name] = s.a.probe(ctx, p)
		}
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		if gen != s.probeGen {
			s.mu.Unlock()
			return
		}
		changed := probesChanged(s.probeRes, res)
		s.probeRes = res
		s.mu.Unlock()
		if changed {
			s.a.kickHeartbeat()
		}
		t.Reset(s.a.heartbeatInterval())
	}
}

// probe GETs p.URL and extracts p.Fields from its JSON answer. A fetch that
// fails or answers other than 2xx is not OK; with fields wanted, neither is
// an answer that is not JSON or lacks one of them (reported as null).
func (a *Agent) probe(ctx context.Context, p agentapi.Probe) agentapi.ProbeResult {
	r := agentapi.ProbeResult{At: a.now()}
	ctx, cancel := context.WithTimeout(ctx, a.t.probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL, nil)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.probes.Do(req)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	if err != nil {
		r.Error = "read answer: " + err.Error()
		return r
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		r.Error = fmt.Sprintf("HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		return r
	}
	if len(p.Fields) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var doc any
		if err := dec.Decode(&doc); err != nil {
			r.Error = "the answer is not JSON: " + err.Error()
			return r
		}
		r.Fields = make(map[string]any, len(p.Fields))
		var missing []string
		for name, path := range p.Fields {
			v, ok := extract(doc, path)
			r.Fields[name] = v
			if !ok {
				missing = append(missing, name+" ("+path+")")
			}
		}
		if len(missing) > 0 {
			slices.Sort(missing)
			r.Error = "the answer lacks " + strings.Join(missing, ", ")
			return r
		}
	}
	r.OK = true
	return r
}

// extract returns the value at a dotted path in a decoded JSON document:
// object members by name, array elements by index ("beans.0.State"). A
// member whose name holds dots ("tag.Hostname") is found too. The empty
// path is the document.
func extract(doc any, path string) (any, bool) {
	if path == "" {
		return doc, true
	}
	return extractParts(doc, strings.Split(path, "."))
}

func extractParts(cur any, parts []string) (any, bool) {
	if len(parts) == 0 {
		return cur, true
	}
	switch v := cur.(type) {
	case map[string]any:
		// The shortest name first: "a.b" is member a's member b before it
		// is member "a.b".
		for n := 1; n <= len(parts); n++ {
			if next, ok := v[strings.Join(parts[:n], ".")]; ok {
				if r, ok := extractParts(next, parts[n:]); ok {
					return r, true
				}
			}
		}
	case []any:
		i, err := strconv.Atoi(parts[0])
		if err == nil && i >= 0 && i < len(v) && strconv.Itoa(i) == parts[0] {
			return extractParts(v[i], parts[1:])
		}
	}
	return nil, false
}

// probesChanged reports whether two sets of results differ in more than
// their times.
func probesChanged(old, cur map[string]agentapi.ProbeResult) bool {
	if len(old) != len(cur) {
		return true
	}
	for name, c := range cur {
		o, ok := old[name]
		if !ok || o.OK != c.OK || o.Error != c.Error || !reflect.DeepEqual(o.Fields, c.Fields) {
			return true
		}
	}
	return false
}
