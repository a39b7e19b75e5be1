"""rest_openapi.py SPEC.yaml LOG.jsonl [LOG...]: validate every logged REST response.

Each LOG line (tests/tools/rest_server --log) holds method, path (below the mount
point, with its query), status and the JSON body. For each: the path is matched to a
path template of the OpenAPI document (paths without a prefix are matched as
/v1/{prefix}/...), the status must be declared for that operation (exactly, or by
its 4XX/5XX range), and the body must validate against the declared response
schema with openapi-schema-validator (OAS 3.1); a response declared without content
must have no body. 413 and 429 (the HTTP server's body and rate limits, which
the document does not declare) are checked against the error model only. Prints one line per distinct (method, template, status) and
exits non-zero on the first-seen failures (all are listed).

--self-test: a body that violates the ErrorModel must be rejected, and a valid one
accepted (so that this checker can fail).
"""
import json
import re
import sys

import yaml
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOTS = {"config", "oauth"}
TRANSPORT = {413, 429}


def load(spec_path):
    with open(spec_path) as f:
        spec = yaml.safe_load(f)
    # yaml gives int keys for status codes; keep strings
    for item in spec["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and "responses" in op:
                op["responses"] = {str(k): v for k, v in op["responses"].items()}
    res = Resource.from_contents(spec, default_specification=DRAFT202012)
    return spec, Registry().with_resource("urn:spec", res)


def pointer(parts):
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def resolve(spec, obj, parts):
    while isinstance(obj, dict) and "$ref" in obj:
        ref = obj["$ref"]
        assert ref.startswith("#/"), ref
        parts = ref[2:].split("/")
        obj = spec
        for p in parts:
            obj = obj[p.replace("~1", "/").replace("~0", "~")]
    return obj, parts


def match(spec, method, path):
    path = path.split("?", 1)[0]
    segs = path.strip("/").split("/")
    if len(segs) >= 2 and segs[0] == "v1" and segs[1] not in ROOTS:
        segs = ["v1", "PREFIX"] + segs[1:] if segs[1] in ("namespaces", "tables", "transactions") else segs
    concrete = "/" + "/".join(segs)
    for tmpl, item in spec["paths"].items():
        rx = "^" + re.sub(r"\{[^}]+\}", "[^/]+", tmpl) + "$"
        if re.match(rx, concrete) and method.lower() in item:
            return tmpl, item[method.lower()]
    return None, None


def check(spec, registry, method, path, status, body):
    tmpl, op = match(spec, method, path)
    if status in TRANSPORT:
        # the HTTP server's own answers on any route (body over the limit, rate
        # limit): the document declares neither, so only the error model is checked
        schema = {"$ref": "urn:spec#/components/schemas/IcebergErrorResponse"}
        errors = list(OAS31Validator(schema, registry=registry).iter_errors(body))
        return tmpl, f"{method} {path} {status}: {errors[0].message[:300]}" if errors else None
    if not op:
        # a route the document does not have: must be refused in the error model
        if status not in (404, 405):
            return None, f"no operation {method} {path} in the document, answered {status}"
        schema = {"$ref": "urn:spec#/components/schemas/IcebergErrorResponse"}
        errors = list(OAS31Validator(schema, registry=registry).iter_errors(body))
        return None, f"{method} {path} {status}: {errors[0].message[:300]}" if errors else None
    responses = op["responses"]
    key = str(status)
    if key not in responses:
        key = f"{str(status)[0]}XX"
        if key not in responses:
            return tmpl, f"status {status} is not declared for {method} {tmpl}"
    resp, parts = resolve(spec, responses[key], ["paths", tmpl, method.lower(), "responses", key])
    content = resp.get("content", {}).get("application/json")
    if content is None:
        if body is not None and method != "HEAD":
            return tmpl, f"{method} {tmpl} {status} declares no body, got {json.dumps(body)[:200]}"
        return tmpl, None
    if method == "HEAD":
        return tmpl, None  # a HEAD answer's body is never sent
    if body is None:
        return tmpl, f"{method} {tmpl} {status}: expected a JSON body"
    schema = {"$ref": "urn:spec#/" + pointer(parts + ["content", "application/json", "schema"])}
    errors = sorted(OAS31Validator(schema, registry=registry).iter_errors(body), key=str)
    if errors:
        e = errors[0]
        return tmpl, (f"{method} {tmpl} {status}: {e.message[:300]} at "
                      f"{'/'.join(map(str, e.absolute_path))}")
    return tmpl, None


def main():
    args = sys.argv[1:]
    spec, registry = load(args[0])
    if args[1:] == ["--self-test"]:
        bad = {"error": {"message": "x", "type": "NoSuchTableException"}}  # no code
        good = {"error": {"message": "x", "type": "NoSuchTableException", "code": 404}}
        p = "/v1/namespaces/db/tables/t"
        _, e1 = check(spec, registry, "GET", p, 404, bad)
        _, e2 = check(spec, registry, "GET", p, 404, good)
        _, e3 = check(spec, registry, "GET", p, 299, good)
        ok = e1 is not None and e2 is None and e3 is not None
        print("self-test", "ok" if ok else f"FAILED: {e1} / {e2} / {e3}")
        return 0 if ok else 1
    seen, failures, n = {}, [], 0
    for log in args[1:]:
        with open(log) as f:
            for line in f:
                r = json.loads(line)
                n += 1
                tmpl, err = check(spec, registry, r["method"], r["path"], r["status"], r["body"])
                k = (r["method"], tmpl or r["path"], r["status"])
                seen[k] = seen.get(k, 0) + 1
                if err:
                    failures.append(err)
    for (m, t, s), c in sorted(seen.items(), key=lambda x: (x[0][1], x[0][0], x[0][2])):
        print(f"{m:6} {t} {s} x{c}")
    print(f"{n} responses, {len(seen)} kinds, {len(failures)} invalid")
    for f in sorted(set(failures)):
        print("INVALID", f)
    return 1 if failures or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
