package jobs

import (
	"strings"
	"testing"
)

func TestNormalizeDefinition(t *testing.T) {
	d := Definition{
		Name: "etl", Type: TypeSpark,
		Mounts:              []Mount{{ResourceName: "code", DirPrefix: "/app"}},
		Spark:               &Spark{File: "app/main.py", LogLevel: "info", WorkloadCredentials: []string{"db", "s3"}},
		WorkloadCredentials: []string{"db"},
	}
	if err := d.normalize("alice"); err != nil {
		t.Fatal(err)
	}
	if d.RetentionPolicy != KeepIndefinitely || d.Mounts[0].DirPrefix != "app/" || d.Spark.LogLevel != "INFO" {
		t.Fatalf("not normalized: %+v %+v", d, d.Spark)
	}
	if strings.Join(d.WorkloadCredentials, ",") != "db,s3" || d.Spark.WorkloadCredentials != nil {
		t.Fatalf("credentials not moved to the top level once: %v / %v", d.WorkloadCredentials, d.Spark.WorkloadCredentials)
	}
	if *d.Spark.DriverCores != 1 || d.Spark.DriverMemory != "1g" || *d.Spark.ExecutorCores != 1 || d.Spark.ExecutorMemory != "1g" {
		t.Fatalf("defaults not filled: %+v", d.Spark)
	}
}

func TestNormalizeRejects(t *testing.T) {
	neg := -1
	tests := []struct {
		name string
		d    Definition
		want []string
	}{
		{"bad name", Definition{Name: "a/b", Type: TypeSpark, Spark: &Spark{File: "x"}}, []string{"invalid job name"}},
		{"no type", Definition{Name: "j"}, []string{"type is required"}},
		{"unknown type", Definition{Name: "j", Type: "flink"}, []string{`unknown job type "flink"`}},
		{"spark without spark", Definition{Name: "j", Type: TypeSpark}, []string{"spark is required"}},
		{"airflow without dag", Definition{Name: "j", Type: TypeAirflow, Airflow: &Airflow{}}, []string{"airflow.dagFile is required"}},
		{"mixed sections", Definition{Name: "j", Type: TypeAirflow, Airflow: &Airflow{DagFile: "d.py"}, Spark: &Spark{File: "x"}}, []string{"no spark section"}},
		{"many problems at once", Definition{Name: "j", Type: TypeSpark, RetentionPolicy: "forever",
			Spark:  &Spark{File: "../etc/passwd", DriverCores: &neg, ExecutorMemory: "lots", LogLevel: "chatty", Jars: []string{"/abs.jar"}},
			Mounts: []Mount{{ResourceName: "r", DirPrefix: "../up"}, {ResourceName: "r2"}, {ResourceName: "r2"}}},
			[]string{"retentionPolicy", "spark.file", "spark.driverCores", "spark.executorMemory", "spark.logLevel", "spark.jars", "mounts[0].dirPrefix", "mounted twice"}},
		{"bad credential name", Definition{Name: "j", Type: TypeSpark, Spark: &Spark{File: "x"}, WorkloadCredentials: []string{"../c"}}, []string{"workloadCredentials"}},
		{"bad variable", Definition{Name: "j", Type: TypeSpark, Spark: &Spark{File: "x"}, DefaultVariables: map[string]string{"1x": "y"}}, []string{"defaultVariables"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.d.normalize("alice")
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	// A URL or local: path is the user's business.
	d := Definition{Name: "j", Type: TypeSpark, Spark: &Spark{File: "local:/opt/app.jar", Jars: []string{"s3a://b/x.jar", "https://h/y.jar"}}}
	if err := d.normalize("alice"); err != nil {
		t.Fatalf("scheme paths refused: %v", err)
	}
}
