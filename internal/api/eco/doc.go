// Package eco serves KakaoCloud's Hadoop Eco Open API under
// /v2/hadoop-eco/clusters: create (POST), get, list and delete clusters,
// list a cluster's VMs (/{cluster-id}/vms) and scale workers out and in
// (/{cluster-id}/scale-out, /{cluster-id}/scale-in), authenticated by the
// Credential-ID and Credential-Secret headers of an IAM access key.
//
// Bodies keep KakaoCloud's key names and order (wire.go); times are epoch
// milliseconds. Lists are Spring Data pages (Page, NewPage) driven by the
// page, size, sort, includeTerminated and like-filter parameters, which
// ParseListQuery reads (query.go). The create body itself is decoded and
// validated by internal/eco.ParseCreate, so that the same rules hold for
// every caller.
package eco
