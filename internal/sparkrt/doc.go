// Package sparkrt finds the Spark runtime runs use: SPARK_HOME (the pyspark
// package's directory when Spark comes from PyPI), a Python that imports
// pyspark, and a Java of at least version 17. It looks at the configured
// Spark home and Python first, then the project's virtual environment,
// then the SPARK_HOME environment variable, and says what is missing when
// it finds no usable runtime.
package sparkrt
