// Package hostprovider makes and removes the virtual machines of Hadoop
// Eco clusters behind one interface, Provider. Each VM runs a Herd host
// agent that joins the server with a host token; from then on the VM is a
// host of the cluster manager like any other.
//
// The subpackage local is the embedded default: each VM is a host agent
// process of this machine with a loopback address of its own and a data
// directory of its own.
package hostprovider
