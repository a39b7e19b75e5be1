#!/usr/bin/env bash
# config_errors.test.sh - `firn run --config FILE` (and collect, process) refuse a bad
# firn.yaml naming the file, the line and the key: an unknown key (with a
# suggestion), a bad duration, a bad enum, a bad number deep in a type's rules.
# Nothing runs: exit 1, no tables created.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$WORK" || exit 1
printf 'stream:\n  fsync: batch\npipeline:\n  commit-intervall: 1s\n' >unknown.yaml
printf 'stream:\n  fsync: batch\npipeline:\n  commit-interval: soon\n' >duration.yaml
printf '# comment\nstream:\n  fsync: sometimes\n' >enum.yaml
printf 'types:\n  parking-entry:\n    fields:\n      x: {type: double, min: banana}\n' >number.yaml
# refused CMD FILE LINE KEY: exit 1, stderr names FILE:LINE and the key, no warehouse
refused() {
    local cmd=$1 file=$2 line=$3 key=$4 out rc
    rm -rf wh
    out=$("$FIRN" --warehouse wh $cmd --config "$file" 2>&1); rc=$?
    [ "$rc" = 1 ] || { echo "exit $rc: $out"; return 1; }
    grep -qE "^firn: [a-z]+: $file:$line: .*('$key'|$key:)" <<<"$out" || { echo "message: $out"; return 1; }
    [ ! -e wh/catalog.db ] || { echo "a catalog was created"; return 1; }
}
check "unknown key: file, line, quoted key and a suggestion" \
    bash -c "$(declare -f refused); FIRN='$FIRN'; refused 'run --until-drained' unknown.yaml 4 pipeline.commit-intervall &&
             '$FIRN' run --config unknown.yaml 2>&1 | grep -q \"did you mean 'pipeline.commit-interval'\""
check "bad duration: file, line and key" \
    bash -c "$(declare -f refused); FIRN='$FIRN'; refused 'run --until-drained' duration.yaml 4 pipeline.commit-interval"
check "bad enum value: file, line and key" \
    bash -c "$(declare -f refused); FIRN='$FIRN'; refused 'run --until-drained' enum.yaml 3 stream.fsync"
check "bad number in a type's rules: file, line and the field's key" \
    bash -c "$(declare -f refused); FIRN='$FIRN'; refused 'run --until-drained' number.yaml 4 types.parking-entry.fields.x.min"
check "firn process refuses the same file the same way" \
    bash -c "$(declare -f refused); FIRN='$FIRN'; refused 'process --topic parking-entry --until-drained' unknown.yaml 4 pipeline.commit-intervall"
check "firn collect refuses it too" \
    bash -c "mkdir -p drop; out=\$('$FIRN' collect --watch drop --once --config duration.yaml 2>&1); [ \$? = 1 ] && grep -q 'duration.yaml:4: pipeline.commit-interval' <<<\"\$out\""
finish
