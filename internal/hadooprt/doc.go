// Package hadooprt finds the Hadoop HDFS runtime (the NameNode, DataNode,
// SecondaryNameNode and the HDFS client tools) that scripts/setup.sh fetches
// from Maven Central into build/hadoop, and builds the java command lines
// that run these daemons on Java 17 without Hadoop's shell scripts.
//
// The runtime directory holds VERSION, lib/ (the jars) and resources/ (the
// webapps/ the daemons' web servers need; without webapps/hdfs on the
// classpath the NameNode does not start). It is HERD_HADOOP_HOME, else
// build/hadoop in the project that holds the working directory.
//
// A daemon's configuration directory comes first on its classpath and holds
// core-site.xml and hdfs-site.xml (WriteSiteXML) and log4j.properties
// (WriteLog4j), which sends every log line to stderr.
//
// When the NameNode and the DataNodes each bind their own loopback address
// (127.0.1.10, 127.0.1.11, ...) the NameNode still sees every DataNode
// connect from 127.0.0.1, the kernel's source address on lo. Such a setup
// needs dfs.datanode.hostname set to the DataNode's own address on the
// DataNode, dfs.client.use.datanode.hostname=true (and
// dfs.datanode.use.datanode.hostname=true for DataNode-to-DataNode copies)
// on every client, and a different dfs.datanode.address port per DataNode:
// the NameNode keys DataNodes by IP and transfer port, so two DataNodes
// on the same port replace each other.
package hadooprt
