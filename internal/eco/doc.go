// Package eco runs KakaoCloud Hadoop Eco clusters: it checks a create
// request against what the host provider can do, records the cluster and
// its VMs, and takes the cluster through its lifecycle (Initializing →
// Installing → Running → Terminating → Terminated(User), or
// Terminated(Error) with the reason) in goroutines it supervises. Every
// transition is persisted; at start, Run settles what a previous server
// left in flight.
//
// A cluster here is a cluster of the cluster manager (package inventory)
// of the same name: its VMs are hosts whose agents the provider starts,
// with HDFS (NameNode on the master, a DataNode per worker) and Spark
// (master on the master, a worker per worker).
package eco
