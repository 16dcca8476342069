/*
 * SparkPi: estimates pi by throwing darts at the unit square. The pyspark
 * package ships no examples jar, so Herd builds this one against the
 * installed Spark jars (scripts/setup.sh) for its tests and benchmarks.
 * Usage: spark-submit --class org.herd.examples.SparkPi spark-examples.jar [slices]
 */
package org.herd.examples;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

public final class SparkPi {
  public static void main(String[] args) {
    SparkSession spark = SparkSession.builder().appName("JavaSparkPi").getOrCreate();
    JavaSparkContext jsc = new JavaSparkContext(spark.sparkContext());
    int slices = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    int n = 100000 * slices;
    List<Integer> l = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      l.add(i);
    }
    JavaRDD<Integer> dataSet = jsc.parallelize(l, slices);
    int count = dataSet.map(integer -> {
      double x = Math.random() * 2 - 1;
      double y = Math.random() * 2 - 1;
      return (x * x + y * y <= 1) ? 1 : 0;
    }).reduce(Integer::sum);
    System.out.println("Pi is roughly " + 4.0 * count / n);
    spark.stop();
  }
}
