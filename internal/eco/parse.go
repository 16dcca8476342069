package eco

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/herdhq/herd/internal/apperr"
)

// The create body, as the seed (KakaoCloud's Hadoop Eco Open API) gives it,
// and the rules this file adds where the seed is silent:
//
//   - Keys are matched case-insensitively, as encoding/json does, so the
//     seed's spellings config.BlockSize and userScriptfileUrl need no special
//     case. Aliases: config.fileUrl = config.configFileUrl, config.blockSize =
//     config.hdfsBlockSize, dataCatalog = dataCatalogInfo. Sending a field
//     under two of its names is an error. Unknown keys are ignored.
//   - null, and "" for a string, mean the field was not sent.
//   - Integers are JSON numbers with an integral value (3 and 3.0, not "3")
//     within Java's int range; booleans are true or false.
//   - name: 1-63 letters, digits and '-', starting with a letter and not
//     ending with '-': it becomes part of VM host names
//     (HadoopMST-<name>-1), whose labels follow RFC 1123.
//   - clusterType is hadoop, hbase, trino, dataflow or custom. Only hadoop
//     runs on the local provider; refusing the others is the lifecycle's
//     call, not this parser's.
//   - config.hdfsReplication is at most 512, HDFS's dfs.replication.max.
//   - Names of flavors, key pairs, VPCs, subnets and security groups are
//     1-255 characters without control characters; their existence is for
//     the provider to check.
//   - Base64 (adminInfo.userPw, config.configText, config.userScript,
//     hiveDbInfo.userPw) uses the standard alphabet; white space anywhere,
//     missing padding and the BEGIN/END lines of Windows' certutil -encode
//     (the seed's recipe) are tolerated. Passwords lose trailing newlines,
//     which the seed's recipe (echo "pw" | base64) adds, and must then be
//     non-empty UTF-8 without control characters.
//   - URLs (config.configFileUrl, config.userScriptFileUrl,
//     userTask.fileUrl) are absolute http, https or file URLs without
//     spaces; a file URL has an absolute path and no host but localhost.
//   - configText and configFileUrl are two ways to give the same thing, as
//     are userScript and userScriptFileUrl: send one of each pair at most.
//   - adminInfo may give userId, userPw or both; what is missing is taken
//     from the IAM account. An adminInfo with neither is no adminInfo.
//   - userTask: a hive task has hiveQuery or fileUrl, not both; deployMode
//     defaults to client and only matters to spark.
//   - hiveDbInfo.dbName is a MySQL unquoted identifier ([0-9A-Za-z$_], at
//     most 64); hiveDbInfo.userId is at most 32 characters (MySQL's limit).
//
// Every problem found is reported, in one Invalid error: the missing
// required fields first, in one sentence, then the others in the order of
// the seed's field table.

// Limits of the create body.
const (
	maxNameLen        = 63
	maxIdentLen       = 255
	maxReplication    = 512 // HDFS's default dfs.replication.max
	maxRedisDB        = 15
	maxOSUserLen      = 32
	maxMySQLDBLen     = 64
	maxMySQLUserLen   = 32
	maxProblemsToShow = 20

	userEnvPrefix = "user-env:" // and an OS user name
)

var (
	clusterTypes     = []string{"hadoop", "hbase", "trino", "dataflow", "custom"}
	taskTypes        = []string{"hive", "spark"}
	terminations     = []string{"never", "onSuccess", "always"}
	deployModes      = []string{"cluster", "client"}
	classifications  = []string{"core-site", "hdfs-site", "hadoop-env", "spark-defaults", "spark-env"}
	allowedClassText = strings.Join(classifications, ", ") + ", " + userEnvPrefix + "<os user>"

	nameRE    = regexp.MustCompile(`^[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?$`)
	versionRE = regexp.MustCompile(`^hde-[0-9]+\.[0-9]+\.[0-9]+$`)
	osUserRE  = regexp.MustCompile(`^[a-z_][a-z0-9_-]*$`)
	bucketRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	envVarRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	mysqlDBRE = regexp.MustCompile(`^[0-9A-Za-z$_]+$`)
)

// ParseCreate decodes and validates the body of POST /v2/hadoop-eco/clusters.
// Every error is apperr.Invalid, and names each field at fault and why.
func ParseCreate(body []byte) (Spec, error) {
	d := &bodyReader{}
	top, ok := d.root(body, "request body")
	if !ok {
		return Spec{}, d.err()
	}
	var s Spec
	var ok1, ok2, ok3 bool

	if s.Name, ok1 = top.str("name", true); ok1 {
		d.check(len(s.Name) <= maxNameLen && nameRE.MatchString(s.Name),
			"name %q must be 1-%d letters, digits and '-', start with a letter and not end with '-'", s.Name, maxNameLen)
	}
	if s.ClusterType, ok1 = top.str("clusterType", true); ok1 {
		d.oneOf("clusterType", s.ClusterType, clusterTypes)
	}
	if s.ClusterVersion, ok1 = top.str("clusterVersion", true); ok1 {
		d.check(versionRE.MatchString(s.ClusterVersion), "clusterVersion %q must look like hde-2.0.1", s.ClusterVersion)
	}
	s.IsHA, ok1 = top.boolean("isHa", true)
	s.Master.Count = 1
	if ok1 && s.IsHA {
		s.Master.Count = 3
	}
	s.KeypairName, _ = top.ident("keypairName", true)
	s.Master.FlavorName, _ = top.ident("masterFlavorName", true)
	if s.Master.VolumeGB, ok1 = top.integer("masterVolumeSize", true); ok1 {
		d.atLeast("masterVolumeSize", s.Master.VolumeGB, 1)
	}
	workerCntOK := false
	if s.Worker.Count, ok1 = top.integer("workerCnt", true); ok1 {
		workerCntOK = d.atLeast("workerCnt", s.Worker.Count, 1)
	}
	s.Worker.FlavorName, _ = top.ident("workerFlavorName", true)
	if s.Worker.VolumeGB, ok1 = top.integer("workerVolumeSize", true); ok1 {
		d.atLeast("workerVolumeSize", s.Worker.VolumeGB, 1)
	}
	s.Monitoring, _ = top.boolean("monitoring", true)
	d.securityGroups(top, &s)
	s.VpcID, _ = top.ident("vpcId", true)
	s.SubnetID, _ = top.ident("subnetId", true)
	if admin, ok := top.objectField("adminInfo"); ok {
		s.Admin = d.admin(admin)
	}

	config, hasConfig := top.objectField("config")
	switch {
	case !hasConfig && !d.bad["config"]:
		d.missing = append(d.missing, "config.hdfsReplication", "config.hdfsBlockSize")
	case hasConfig:
		replicationOK := false
		if s.HDFSReplication, ok1 = config.integer("hdfsReplication", true); ok1 {
			replicationOK = d.atLeast("config.hdfsReplication", s.HDFSReplication, 1) &&
				d.check(s.HDFSReplication <= maxReplication, "config.hdfsReplication (%d) must be at most %d, HDFS's dfs.replication.max", s.HDFSReplication, maxReplication)
		}
		if workerCntOK && replicationOK {
			d.check(s.Worker.Count >= s.HDFSReplication, "workerCnt (%d) must be at least config.hdfsReplication (%d)", s.Worker.Count, s.HDFSReplication)
		}
		if s.HDFSBlockSizeMB, ok1 = config.integer("hdfsBlockSize", true, "blockSize"); ok1 {
			d.atLeast(config.name("hdfsBlockSize"), s.HDFSBlockSizeMB, 1)
		}
		var text []byte
		text, ok1 = config.base64("configText", false)
		s.ConfigFileURL, ok2 = config.url("configFileUrl", false, "fileUrl")
		if ok1 && ok2 {
			d.addf("send config.configText or %s, not both", config.name("configFileUrl"))
		}
		if ok1 {
			s.ConfigText = string(text)
			s.Configurations = parseConfigurations(d, text, "config.configText")
		}
		s.UserScript, ok1 = config.base64("userScript", false)
		if ok1 && len(s.UserScript) == 0 {
			d.addf("config.userScript is empty once decoded")
		}
		s.UserScriptFileURL, ok3 = config.url("userScriptFileUrl", false)
		if ok1 && ok3 {
			d.addf("send config.userScript or %s, not both", config.name("userScriptFileUrl"))
		}
	}

	if task, ok := top.objectField("userTask"); ok {
		s.Task = d.userTask(task)
	}
	if hive, ok := top.objectField("hiveDbInfo"); ok {
		s.HiveDB = d.hiveDB(hive)
	}
	if catalog, ok := top.objectField("dataCatalogInfo", "dataCatalog"); ok {
		s.DataCatalog = &DataCatalog{}
		s.DataCatalog.CatalogID, _ = catalog.ident("catalogId", true)
	}
	if redis, ok := top.objectField("redisInfo"); ok {
		s.Redis = d.redis(redis)
	}
	if err := d.err(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// ParseScale decodes the body of POST .../scale-out and .../scale-in,
// {"scaleCnt": n}, and returns n, which is at least 1.
func ParseScale(body []byte) (int, error) {
	d := &bodyReader{}
	top, ok := d.root(body, "request body")
	if !ok {
		return 0, d.err()
	}
	n, ok := top.integer("scaleCnt", true)
	if ok {
		d.atLeast("scaleCnt", n, 1)
	}
	if err := d.err(); err != nil {
		return 0, err
	}
	return n, nil
}

// ParseConfigurations decodes configuration JSON, the decoded configText or
// the file at configFileUrl:
//
//	{"configurations": [{"classification": "core-site", "properties": {"k": "v"}}]}
//
// field names the source in error messages ("config.configText"). The
// classifications allowed are core-site, hdfs-site, hadoop-env,
// spark-defaults, spark-env and user-env:<os user>, whose only property is
// "env". A property value may be a string, a number or a boolean; its text
// is kept (65536 and "65536" are both "65536"). Keys of hadoop-env and
// spark-env are shell variable names; keys and values must not hold
// characters XML 1.0 cannot carry. A classification may appear once.
func ParseConfigurations(jsonBytes []byte, field string) ([]Configuration, error) {
	d := &bodyReader{}
	confs := parseConfigurations(d, jsonBytes, field)
	if err := d.err(); err != nil {
		return nil, err
	}
	return confs, nil
}

func parseConfigurations(parent *bodyReader, data []byte, field string) []Configuration {
	d := &bodyReader{}
	defer func() { parent.merge(d, field+": ") }()
	top, ok := d.root(data, "the configuration")
	if !ok {
		return nil
	}
	raw, ok := top.value("configurations", true)
	if !ok {
		return nil
	}
	var entries []json.RawMessage
	if json.Unmarshal(raw.data, &entries) != nil {
		d.addf("configurations must be an array, not %s", describe(raw.data))
		return nil
	}
	var out []Configuration
	seen := map[string]int{}
	for i, entry := range entries {
		at := fmt.Sprintf("configurations[%d]", i)
		obj, ok := d.objectOf(entry, at)
		if !ok {
			continue
		}
		if _, nested := obj.value("configurations", false); nested {
			d.addf("%s: nested configurations are not supported", at)
		}
		class, ok := obj.str("classification", true)
		if !ok {
			continue
		}
		if j, dup := seen[class]; dup {
			d.addf("%s: classification %q is given again (first in configurations[%d])", at, class, j)
			continue
		}
		seen[class] = i
		user, isUserEnv := strings.CutPrefix(class, userEnvPrefix)
		switch {
		case isUserEnv:
			if !osUserRE.MatchString(user) || len(user) > maxOSUserLen {
				d.addf("%s: classification %q must name an OS user ([a-z_][a-z0-9_-]*, at most %d characters)", at, class, maxOSUserLen)
				continue
			}
		case !slices.Contains(classifications, class):
			d.addf("%s: unknown classification %q (allowed: %s)", at, class, allowedClassText)
			continue
		}
		pv, ok := obj.value("properties", true)
		if !ok {
			continue
		}
		props, ok := d.objectOf(pv.data, at+".properties")
		if !ok {
			continue
		}
		c := Configuration{Classification: class, Properties: d.properties(props, at+".properties", class, isUserEnv)}
		out = append(out, c)
	}
	return out
}

// properties reads the properties object of one classification.
func (d *bodyReader) properties(obj jsonObject, at, class string, userEnv bool) map[string]string {
	keys := obj.sorted
	if userEnv && (len(keys) != 1 || keys[0] != "env") {
		d.addf("%s of %s must have exactly one key, env, not %s", at, class, quoteList(keys))
		return nil
	}
	isEnv := class == "hadoop-env" || class == "spark-env"
	props := make(map[string]string, len(keys))
	for _, k := range keys {
		where := fmt.Sprintf("%s[%q]", at, k)
		switch {
		case k == "":
			d.addf("%s has an empty key", at)
			continue
		case isEnv && !envVarRE.MatchString(k):
			d.addf("%s: %q is not a shell variable name, which %s keys must be", at, k, class)
			continue
		case !userEnv && !isEnv && strings.ContainsFunc(k, unicode.IsSpace):
			d.addf("%s: key %q must not contain white space", at, k)
			continue
		case badXMLText(k):
			d.addf("%s: key %q has characters XML cannot carry", at, k)
			continue
		}
		v, ok := scalarText(obj.fields[k])
		if !ok {
			d.addf("%s must be a string, number or boolean, not %s", where, describe(obj.fields[k]))
			continue
		}
		if badXMLText(v) {
			d.addf("%s has characters XML cannot carry", where)
			continue
		}
		props[k] = v
	}
	return props
}

// scalarText is the text of a JSON string, number or boolean.
func scalarText(raw json.RawMessage) (string, bool) {
	switch kindOf(raw) {
	case "string":
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err == nil
	case "number", "boolean":
		return string(raw), true
	}
	return "", false
}

// badXMLText reports whether s holds invalid UTF-8 or a character XML 1.0
// cannot carry (control characters other than tab, CR and LF; U+FFFE,
// U+FFFF).
func badXMLText(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	return strings.ContainsFunc(s, func(r rune) bool {
		return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0xFFFE || r == 0xFFFF
	})
}

func (d *bodyReader) securityGroups(top jsonObject, s *Spec) {
	ids, okIDs := top.strList("securityGroupIds")
	name, okName := top.ident("securityGroupName", false)
	idsSent := okIDs && len(ids) > 0
	switch {
	case idsSent && okName:
		d.addf("send securityGroupIds (to reuse groups) or securityGroupName (to create one), not both")
	case idsSent:
		s.SecurityGroupIDs = ids
	case okName:
		s.SecurityGroupName = name
	case okIDs:
		d.addf("securityGroupIds must not be empty; or send securityGroupName to create a group")
	default:
		if !d.bad["securityGroupIds"] && !d.bad["securityGroupName"] {
			d.missing = append(d.missing, "securityGroupIds or securityGroupName")
		}
	}
}

func (d *bodyReader) admin(obj jsonObject) *Admin {
	var a Admin
	a.UserID, _ = obj.ident("userId", false)
	if a.UserID != "" {
		d.check(!strings.ContainsFunc(a.UserID, unicode.IsSpace), "adminInfo.userId %q must not contain white space", a.UserID)
	}
	a.Password, _ = obj.password("userPw", false)
	if a.UserID == "" && a.Password == "" {
		return nil
	}
	return &a
}

func (d *bodyReader) userTask(obj jsonObject) *UserTask {
	var t UserTask
	typeOK := false
	if v, ok := obj.str("type", true); ok {
		t.Type = v
		typeOK = d.oneOf("userTask.type", v, taskTypes)
	}
	if v, ok := obj.str("terminationPolicy", true); ok {
		t.TerminationPolicy = v
		d.oneOf("userTask.terminationPolicy", v, terminations)
	}
	t.FileURL, _ = obj.url("fileUrl", false)
	t.HiveQuery, _ = obj.str("hiveQuery", false)
	t.DeployMode = "client"
	if v, ok := obj.str("deployMode", false); ok {
		t.DeployMode = v
		d.oneOf("userTask.deployMode", v, deployModes)
	}
	t.ExecOpts, _ = obj.str("execOpts", false)
	t.ExecParams, _ = obj.str("execParams", false)
	if v, ok := obj.str("logBucketName", false); ok {
		t.LogBucketName = v
		d.check(bucketRE.MatchString(v), "userTask.logBucketName %q must be a bucket name: 3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit", v)
	}
	if typeOK && !obj.d.bad["userTask.fileUrl"] {
		switch {
		case t.Type == "spark" && t.FileURL == "":
			d.missing = append(d.missing, "userTask.fileUrl (the JAR of a spark task)")
		case t.Type == "hive" && t.FileURL == "" && t.HiveQuery == "":
			d.missing = append(d.missing, "userTask.hiveQuery or userTask.fileUrl")
		case t.Type == "hive" && t.FileURL != "" && t.HiveQuery != "":
			d.addf("a hive userTask takes hiveQuery or fileUrl, not both")
		}
	}
	return &t
}

func (d *bodyReader) hiveDB(obj jsonObject) *HiveDB {
	var h HiveDB
	h.ObjectID, _ = obj.ident("objectId", true)
	if v, ok := obj.str("dbName", true); ok {
		h.DBName = v
		d.check(len(v) <= maxMySQLDBLen && mysqlDBRE.MatchString(v), "hiveDbInfo.dbName %q must be a MySQL name: at most %d of [0-9A-Za-z$_]", v, maxMySQLDBLen)
	}
	if v, ok := obj.str("userId", true); ok {
		h.UserID = v
		d.check(utf8.RuneCountInString(v) <= maxMySQLUserLen && !badIdent(v) && !strings.ContainsFunc(v, unicode.IsSpace),
			"hiveDbInfo.userId %q must be a MySQL user name: at most %d characters, no white space", v, maxMySQLUserLen)
	}
	h.Password, _ = obj.password("userPw", true)
	return &h
}

func (d *bodyReader) redis(obj jsonObject) *Redis {
	r := Redis{DBIDSupersetCelery: 0, DBIDSupersetResults: 1}
	r.ObjectID, _ = obj.ident("objectId", true)
	if v, ok := obj.integer("dbIdSupersetCelery", false); ok {
		r.DBIDSupersetCelery = v
		d.check(v >= 0 && v <= maxRedisDB, "redisInfo.dbIdSupersetCelery (%d) must be between 0 and %d", v, maxRedisDB)
	}
	if v, ok := obj.integer("dbIdSupersetResults", false); ok {
		r.DBIDSupersetResults = v
		d.check(v >= 0 && v <= maxRedisDB, "redisInfo.dbIdSupersetResults (%d) must be between 0 and %d", v, maxRedisDB)
	}
	return &r
}

// bodyReader reads one JSON body (or the configuration) and collects its
// problems.
type bodyReader struct {
	missing  []string
	problems []string
	bad      map[string]bool // fields with a problem of their own, by display name
}

func (d *bodyReader) addf(format string, args ...any) {
	d.problems = append(d.problems, fmt.Sprintf(format, args...))
}

// check adds the problem unless ok, and returns ok.
func (d *bodyReader) check(ok bool, format string, args ...any) bool {
	if !ok {
		d.addf(format, args...)
	}
	return ok
}

func (d *bodyReader) atLeast(field string, v, lowest int) bool {
	return d.check(v >= lowest, "%s (%d) must be at least %d", field, v, lowest)
}

func (d *bodyReader) oneOf(field, v string, allowed []string) bool {
	return d.check(slices.Contains(allowed, v), "%s %q must be one of %s", field, v, strings.Join(allowed, ", "))
}

func (d *bodyReader) markBad(field string) {
	if d.bad == nil {
		d.bad = map[string]bool{}
	}
	d.bad[field] = true
}

// merge adds the problems of sub, each prefixed.
func (d *bodyReader) merge(sub *bodyReader, prefix string) {
	if len(sub.missing) > 0 {
		d.problems = append(d.problems, prefix+missingText(sub.missing))
	}
	for _, p := range sub.problems {
		d.problems = append(d.problems, prefix+p)
	}
}

func missingText(fields []string) string {
	if len(fields) == 1 {
		return "missing required field " + fields[0]
	}
	return "missing required fields " + strings.Join(fields, ", ")
}

// err is the Invalid error listing every problem, or nil.
func (d *bodyReader) err() error {
	all := d.problems
	if len(d.missing) > 0 {
		all = append([]string{missingText(d.missing)}, all...)
	}
	if len(all) == 0 {
		return nil
	}
	if len(all) > maxProblemsToShow {
		all = append(all[:maxProblemsToShow:maxProblemsToShow], fmt.Sprintf("and %d more problems", len(all)-maxProblemsToShow))
	}
	return apperr.New(apperr.Invalid, "%s", strings.Join(all, "; "))
}

// root decodes data as a JSON object.
func (d *bodyReader) root(data []byte, what string) (jsonObject, bool) {
	if len(strings.TrimSpace(string(data))) == 0 {
		d.addf("%s is empty: send a JSON object", what)
		return jsonObject{}, false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		var syntax *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			line, col := position(data, syntax.Offset)
			d.addf("%s is malformed JSON at line %d, column %d (byte %d): %s", what, line, col, syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
		case errors.As(err, &typeErr):
			d.addf("%s must be a JSON object, not %s", what, describe(data))
		default:
			d.addf("%s is not valid JSON: %v", what, err)
		}
		return jsonObject{}, false
	}
	if fields == nil { // the JSON was null
		d.addf("%s must be a JSON object, not null", what)
		return jsonObject{}, false
	}
	return newJSONObject(d, "", fields), true
}

// position turns a byte offset (the byte after the error, as
// json.SyntaxError gives it) into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	end := min(max(offset-1, 0), int64(len(data)))
	before := data[:end]
	line = 1 + strings.Count(string(before), "\n")
	col = 1 + utf8.RuneCount(before[strings.LastIndexByte(string(before), '\n')+1:])
	return line, col
}

// objectOf decodes raw as an object named at.
func (d *bodyReader) objectOf(raw json.RawMessage, at string) (jsonObject, bool) {
	if kindOf(raw) != "object" {
		d.addf("%s must be an object, not %s", at, describe(raw))
		return jsonObject{}, false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		d.addf("%s is not a valid object: %v", at, err)
		return jsonObject{}, false
	}
	return newJSONObject(d, at+".", fields), true
}

// jsonObject is one JSON object of the body; prefix is its path ("config.").
type jsonObject struct {
	d      *bodyReader
	prefix string
	fields map[string]json.RawMessage
	sorted []string // the keys of fields, sorted
}

func newJSONObject(d *bodyReader, prefix string, fields map[string]json.RawMessage) jsonObject {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return jsonObject{d: d, prefix: prefix, fields: fields, sorted: keys}
}

// sentValue is a field's value and the key it came under.
type sentValue struct {
	key, canon string // as sent, and the field's own name
	data       json.RawMessage
}

func (o jsonObject) name(key string) string { return o.prefix + key }

// value finds the field called name or one of its aliases, matching keys
// case-insensitively. A null value is no value. A missing required field
// is recorded; a field sent under two keys is a problem.
func (o jsonObject) value(name string, required bool, aliases ...string) (sentValue, bool) {
	var found []sentValue
	for _, k := range o.sorted {
		if strings.EqualFold(k, name) || slices.ContainsFunc(aliases, func(a string) bool { return strings.EqualFold(k, a) }) {
			if string(o.fields[k]) != "null" {
				found = append(found, sentValue{key: k, canon: name, data: o.fields[k]})
			}
		}
	}
	switch len(found) {
	case 0:
		if required {
			o.d.missing = append(o.d.missing, o.name(name))
		}
		return sentValue{}, false
	case 1:
		return found[0], true
	}
	names := make([]string, len(found))
	for i, f := range found {
		names[i] = o.name(f.key)
	}
	o.d.addf("%s are the same field: send one", strings.Join(names, " and "))
	o.d.markBad(o.name(name))
	return sentValue{}, false
}

// wrongType records that a field has the wrong JSON type.
func (o jsonObject) wrongType(v sentValue, want string) {
	o.d.addf("%s must be %s, not %s", o.name(v.key), want, describe(v.data))
	o.d.markBad(o.name(v.canon))
}

// str reads a string field; "" is no value.
func (o jsonObject) str(name string, required bool, aliases ...string) (string, bool) {
	_, s, ok := o.strValue(name, required, aliases...)
	return s, ok
}

// strValue is str with the value as it was sent (under which key).
func (o jsonObject) strValue(name string, required bool, aliases ...string) (sentValue, string, bool) {
	v, ok := o.value(name, required, aliases...)
	if !ok {
		return v, "", false
	}
	var s string
	if kindOf(v.data) != "string" || json.Unmarshal(v.data, &s) != nil {
		o.wrongType(v, "a string")
		return v, "", false
	}
	if s == "" {
		if required {
			o.d.missing = append(o.d.missing, o.name(name))
		}
		return v, "", false
	}
	return v, s, true
}

// ident reads a string naming something: at most 255 characters, no
// control characters.
func (o jsonObject) ident(name string, required bool) (string, bool) {
	s, ok := o.str(name, required)
	if !ok {
		return "", false
	}
	if utf8.RuneCountInString(s) > maxIdentLen || badIdent(s) {
		o.d.addf("%s %q must be at most %d characters without control characters", o.name(name), s, maxIdentLen)
		o.d.markBad(o.name(name))
		return s, false
	}
	return s, true
}

func badIdent(s string) bool {
	return !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl)
}

// integer reads a number with an integral value in Java's int range.
func (o jsonObject) integer(name string, required bool, aliases ...string) (int, bool) {
	v, ok := o.value(name, required, aliases...)
	if !ok {
		return 0, false
	}
	if kindOf(v.data) != "number" {
		o.wrongType(v, "an integer")
		return 0, false
	}
	text := string(v.data)
	n, err := strconv.ParseInt(text, 10, 32)
	if err == nil {
		return int(n), true
	}
	f, ferr := strconv.ParseFloat(text, 64)
	switch {
	case ferr == nil && f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32:
		return int(f), true
	case ferr == nil && f != math.Trunc(f):
		o.d.addf("%s must be an integer, not %s", o.name(v.key), text)
	default:
		o.d.addf("%s (%s) is out of range", o.name(v.key), text)
	}
	o.d.markBad(o.name(v.canon))
	return 0, false
}

func (o jsonObject) boolean(name string, required bool) (bool, bool) {
	v, ok := o.value(name, required)
	if !ok {
		return false, false
	}
	if kindOf(v.data) != "boolean" {
		o.wrongType(v, "true or false")
		return false, false
	}
	return string(v.data) == "true", true
}

// strList reads an array of identifiers. ok with an empty list means the
// array was sent empty.
func (o jsonObject) strList(name string) ([]string, bool) {
	v, ok := o.value(name, false)
	if !ok {
		return nil, false
	}
	var list []json.RawMessage
	if kindOf(v.data) != "array" || json.Unmarshal(v.data, &list) != nil {
		o.wrongType(v, "an array of strings")
		return nil, false
	}
	out := make([]string, 0, len(list))
	for i, raw := range list {
		var s string
		if kindOf(raw) != "string" || json.Unmarshal(raw, &s) != nil {
			o.d.addf("%s[%d] must be a string, not %s", o.name(v.key), i, describe(raw))
			o.d.markBad(o.name(v.canon))
			return nil, false
		}
		if s == "" || utf8.RuneCountInString(s) > maxIdentLen || badIdent(s) {
			o.d.addf("%s[%d] %q must be 1-%d characters without control characters", o.name(v.key), i, s, maxIdentLen)
			o.d.markBad(o.name(v.canon))
			return nil, false
		}
		if slices.Contains(out, s) {
			o.d.addf("%s lists %q twice", o.name(v.key), s)
			o.d.markBad(o.name(v.canon))
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// objectField reads a nested object; null or absent is no object.
func (o jsonObject) objectField(name string, aliases ...string) (jsonObject, bool) {
	v, ok := o.value(name, false, aliases...)
	if !ok {
		return jsonObject{}, false
	}
	if kindOf(v.data) != "object" {
		o.wrongType(v, "an object")
		return jsonObject{}, false
	}
	obj, ok := o.d.objectOf(v.data, o.name(v.key))
	return obj, ok
}

// base64 reads a Base64 string field and decodes it.
func (o jsonObject) base64(name string, required bool) ([]byte, bool) {
	s, ok := o.str(name, required)
	if !ok {
		return nil, false
	}
	b, ok := decodeBase64(s)
	if !ok {
		o.d.addf("%s is not valid Base64", o.name(name))
		o.d.markBad(o.name(name))
		return nil, false
	}
	return b, true
}

// password reads a Base64 password and decodes it.
func (o jsonObject) password(name string, required bool) (string, bool) {
	b, ok := o.base64(name, required)
	if !ok {
		return "", false
	}
	pw := strings.TrimRight(string(b), "\r\n")
	switch {
	case pw == "":
		o.d.addf("%s is empty once decoded", o.name(name))
	case badIdent(pw):
		o.d.addf("%s must decode to UTF-8 text without control characters", o.name(name))
	default:
		return pw, true
	}
	o.d.markBad(o.name(name))
	return "", false
}

// url reads a URL field: absolute http, https or file.
func (o jsonObject) url(name string, required bool, aliases ...string) (string, bool) {
	v, s, ok := o.strValue(name, required, aliases...)
	if !ok {
		return "", false
	}
	if reason := checkURL(s); reason != "" {
		o.d.addf("%s %q %s", o.name(v.key), s, reason)
		o.d.markBad(o.name(name))
		return "", false
	}
	return s, true
}

// checkURL says what is wrong with s as a file URL, or "".
func checkURL(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) || !utf8.ValidString(s) {
		return "must not contain white space or control characters"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "is not a URL"
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" || u.Opaque != "" {
			return "must be an absolute URL with a host"
		}
	case "file":
		if u.Opaque != "" || !strings.HasPrefix(u.Path, "/") || (u.Host != "" && u.Host != "localhost") {
			return "must be a file URL with an absolute path, like file:///path/to/file"
		}
	default:
		return "must be an http, https or file URL"
	}
	return ""
}

// decodeBase64 decodes standard Base64, ignoring white space and the
// BEGIN/END lines certutil writes, and tolerating missing padding.
func decodeBase64(s string) ([]byte, bool) {
	var clean strings.Builder
	for line := range strings.Lines(s) {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "-----BEGIN ") || strings.HasPrefix(t, "-----END ") {
			continue
		}
		for _, r := range t {
			if !unicode.IsSpace(r) {
				clean.WriteRune(r)
			}
		}
	}
	all := clean.String()
	data := strings.TrimRight(all, "=")
	if pad := len(all) - len(data); pad > (4-len(data)%4)%4 {
		return nil, false
	}
	b, err := base64.RawStdEncoding.DecodeString(data)
	return b, err == nil
}

// kindOf is the JSON type of a value: "object", "array", "string",
// "number", "boolean" or "null".
func kindOf(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// describe names a JSON value for an error message: its type, or the
// number itself.
func describe(raw json.RawMessage) string {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	switch k := kindOf(raw); k {
	case "number":
		if len(raw) > 32 {
			return "a long number"
		}
		return string(raw)
	case "object", "array":
		return "an " + k
	case "null":
		return "null"
	default:
		return "a " + k
	}
}

// quoteList renders keys as "a", "b" or (none).
func quoteList(keys []string) string {
	if len(keys) == 0 {
		return "none"
	}
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = strconv.Quote(k)
	}
	return strings.Join(q, ", ")
}
