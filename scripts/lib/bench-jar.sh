# Sourced by scripts/bench and scripts/bench-cache: builds bench/target/benchmarks.jar once, and again
# only when the engine or bench sources or poms are newer than it. Sets $jar. Maven 3.8 writes colour
# resets even with -B -q, so its output is shown only when the build fails.
jar="$root/bench/target/benchmarks.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$root/engine/src/main" "$root/bench/src/main" "$root/pom.xml" \
    "$root/engine/pom.xml" "$root/bench/pom.xml" -newer "$jar" -print -quit)" ]; then
  echo "building the bench harness (once)..." >&2
  if ! build="$(cd "$root" && mvn -B -q -DskipTests -pl bench -am package 2>&1)"; then
    printf '%s\n' "$build" >&2
    exit 1
  fi
fi
