package hadooprt

import (
	"encoding/json"
	"errors"
	"fmt"
)

// NameNodeStatusPath is the JMX query, on the NameNode's HTTP address
// (dfs.namenode.http-address, port 9870 by default), for the
// FSNamesystemState bean: live DataNodes and safe mode.
const NameNodeStatusPath = "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState"

// NameNodeStatus is what a control plane waits for: the NameNode is usable
// for writes once it is out of safe mode and has live DataNodes.
type NameNodeStatus struct {
	LiveDataNodes int  // NumLiveDataNodes
	DeadDataNodes int  // NumDeadDataNodes
	SafeMode      bool // FSState is "safeMode" rather than "Operational"
}

// ParseNameNodeStatus reads the answer to NameNodeStatusPath.
func ParseNameNodeStatus(body []byte) (NameNodeStatus, error) {
	var doc struct {
		Beans []struct {
			FSState          *string `json:"FSState"`
			NumLiveDataNodes int     `json:"NumLiveDataNodes"`
			NumDeadDataNodes int     `json:"NumDeadDataNodes"`
		} `json:"beans"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return NameNodeStatus{}, fmt.Errorf("parse NameNode JMX: %w", err)
	}
	if len(doc.Beans) == 0 || doc.Beans[0].FSState == nil {
		return NameNodeStatus{}, errors.New("parse NameNode JMX: no FSNamesystemState bean (not a NameNode, or not started yet)")
	}
	b := doc.Beans[0]
	return NameNodeStatus{
		LiveDataNodes: b.NumLiveDataNodes,
		DeadDataNodes: b.NumDeadDataNodes,
		SafeMode:      *b.FSState != "Operational",
	}, nil
}
