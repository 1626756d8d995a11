"""The program to give spark-submit on an existing cluster: the `lec` command line, inside the submitted driver.

    spark-submit --master yarn --jars <delta and JDBC jars> \
        --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
        --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
        oracle/spark/submit.py oracle run --engine spark --community 1 --period 2026-11-25

The session is then spark-submit's (master, jars, memory); docs/scale.md has the whole recipe.
"""

from lec.cli import main

if __name__ == "__main__":
    main()
