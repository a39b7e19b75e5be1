#!/usr/bin/env python3
"""check.py - check a rendered kustomization (`kubectl kustomize DIR`) for what breaks a firn
deployment. Config facts come from firn itself (`firn config check|get|types`), never from a
copy of its key table.

  check.py --firn build/firn --image IMAGE --expect base|local|production|bi RENDER.yaml
           [--with OTHER_RENDER.yaml]... [--argocd DIR --root REPO]
  check.py --firn build/firn --image IMAGE --self-test PRODUCTION.yaml LOCAL.yaml

Prints one line per problem and exits 1 when there is any. --self-test breaks a copy of the
renders in the ways below one at a time and fails unless every break is reported.
"""
import argparse, copy, os, re, subprocess, sys, tempfile
import yaml

KAFKA_FRAME_SLACK = 64 << 10  # src/stream/kafka.c: topics firn creates get max-event-bytes + this
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
SECRETISH = re.compile(r"pass(word)?|secret|token|private|access[-_]?key|credential", re.I)


def pod_spec(doc):
    s = doc.get("spec", {})
    if doc["kind"] == "CronJob":
        s = s.get("jobTemplate", {}).get("spec", {})
    return s.get("template", {}).get("spec", {}), s.get("template", {}).get("metadata", {}).get("labels", {}) or {}


def containers(doc):
    spec, _ = pod_spec(doc)
    return [(c, False) for c in spec.get("containers", [])] + [(c, True) for c in spec.get("initContainers", [])]


def firn_args(c):
    """The firn subcommand and its args (global --catalog/--warehouse removed), or None."""
    if c.get("command") or not str(c.get("image", "")).split(":")[0].endswith("firn"):
        return None
    args, out, glob, i = list(c.get("args", [])), [], {}, 0
    while i < len(args):
        if args[i] in ("--catalog", "--warehouse") and i + 1 < len(args):
            glob[args[i]] = args[i + 1]; i += 2; continue
        out.append(args[i]); i += 1
    return out, glob


class Firn:
    def __init__(self, path):
        self.path, self.cache = path, {}

    def run(self, *args):
        p = subprocess.run([self.path, *args], capture_output=True, text=True)
        return p.returncode, p.stdout.strip(), p.stderr.strip()

    def config(self, text):
        """(problem or None, get(key), types) for one firn.yaml text."""
        if text in self.cache:
            return self.cache[text]
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(text)
        try:
            rc, out, err = self.run("config", "check", f.name)
            if rc != 0:
                res = ("firn config check: " + err.replace(f.name, "firn.yaml"), None, [])
            else:
                vals = {}
                for k in ("stream.uri", "stream.partitions", "stream.raw-topic", "stream.dead-letter-topic",
                          "catalog.uri", "warehouse", "limits.max-event-bytes", "server.enabled",
                          "server.listen"):
                    rc, out, err = self.run("config", "get", k, "--config", f.name)
                    vals[k] = out
                _, out, _ = self.run("config", "types", f.name)
                types = [line.split() for line in out.splitlines() if line.strip()]
                res = (None, vals, types)
        finally:
            os.unlink(f.name)
        self.cache[text] = res
        return res


def labels_match(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def tolerates(tols, key, value, effect):
    for t in tols or []:
        if t.get("key") != key or (t.get("effect") and t.get("effect") != effect):
            continue
        if t.get("operator") == "Exists" or t.get("value") == value:
            return True
    return False


def check(docs, firn, image, expect, others=(), argocd=None, root=None):
    P = []
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    name = lambda d: f'{d["kind"]}/{d["metadata"]["name"]}'
    workloads = [d for d in docs if d["kind"] in WORKLOADS]
    cms = {d["metadata"]["name"]: d for d in by_kind.get("ConfigMap", [])}

    # --- secrets: referenced, never inlined
    for d in by_kind.get("Secret", []):
        P.append(f"{name(d)}: a Secret is committed in the manifests; reference it, create it out of band")
    for d in workloads:
        for c, _ in containers(d):
            for e in c.get("env", []) or []:
                if "value" in e and SECRETISH.search(e["name"]) and "valueFrom" not in e:
                    P.append(f'{name(d)}: env {e["name"]} is inlined: take it from a Secret (secretKeyRef)')
    for cm in cms.values():
        for k, v in (cm.get("data") or {}).items():
            for line in str(v).splitlines():
                m = re.match(r"\s*([\w.\-]+)\s*[=:]\s*(\S.*)$", line)
                if m and not line.lstrip().startswith("#") and SECRETISH.search(m.group(1)) \
                        and not m.group(2).startswith("${ENV:"):
                    P.append(f'{name(cm)}: {k}: "{m.group(1)}" holds a literal secret')
            if re.search(r"://[^/@\s:]+:[^/@\s]+@", str(v)):
                P.append(f"{name(cm)}: {k}: a URI carries a password")

    # --- firn.yaml in every ConfigMap that has one
    configs = {}
    for n, cm in cms.items():
        text = (cm.get("data") or {}).get("firn.yaml")
        if text is None:
            continue
        prob, vals, types = firn.config(text)
        if prob:
            P.append(f"{name(cm)}: {prob}")
        else:
            configs[n] = (vals, types)

    # --- workloads: image, resources, probes, config mount, selectors
    pods = []  # (workload, pod labels)
    for d in workloads:
        spec, tlabels = pod_spec(d)
        pods.append((d, tlabels))
        if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet"):
            sel = d["spec"].get("selector", {}).get("matchLabels", {})
            if not labels_match(sel, tlabels):
                P.append(f"{name(d)}: selector {sel} does not match its pod labels {tlabels}")
        vols = {v["name"]: v for v in spec.get("volumes", []) or []}
        for v in vols.values():
            if "configMap" in v and v["configMap"]["name"] not in cms and not v["configMap"].get("optional"):
                P.append(f'{name(d)}: volume {v["name"]}: ConfigMap {v["configMap"]["name"]} is not in the manifests')
        for c, init in containers(d):
            cn = f'{name(d)} container {c["name"]}'
            img = str(c.get("image", ""))
            if ":" not in img.split("/")[-1] or img.endswith(":latest"):
                P.append(f"{cn}: image {img!r} has no pinned tag")
            fa = firn_args(c)
            if img.split(":")[0].split("/")[-1] == "firn" and img != image:
                P.append(f"{cn}: image {img!r}, expected {image!r}")
            res = c.get("resources", {}) or {}
            for kind in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in (res.get(kind) or {}):
                        P.append(f"{cn}: no resources.{kind}.{r}")
            ports = {p.get("name"): p["containerPort"] for p in c.get("ports", []) or []}
            nums = set(ports.values())
            for pn in ("livenessProbe", "readinessProbe", "startupProbe"):
                hg = (c.get(pn) or {}).get("httpGet")
                if hg and hg["port"] not in nums and hg["port"] not in ports:
                    P.append(f'{cn}: {pn} port {hg["port"]} is not a declared containerPort')
            if not fa:
                continue
            args, glob = fa
            sub = args[0] if args else ""
            cfg = None
            if "--config" in args:
                path = args[args.index("--config") + 1]
                for m in c.get("volumeMounts", []) or []:
                    v = vols.get(m["name"], {})
                    if path == m["mountPath"].rstrip("/") + "/firn.yaml" and "configMap" in v:
                        cfg = configs.get(v["configMap"]["name"])
                        if v["configMap"]["name"] not in configs and v["configMap"]["name"] in cms:
                            P.append(f'{cn}: --config {path}: ConfigMap {v["configMap"]["name"]} has no valid firn.yaml')
                if cfg is None and not any(p.startswith(f"{name(c2)}") for p in P for c2 in ()):
                    if not any(path == m["mountPath"].rstrip("/") + "/firn.yaml" for m in c.get("volumeMounts", []) or []):
                        P.append(f"{cn}: --config {path} is not a mounted ConfigMap's firn.yaml")
            elif sub in ("serve", "run", "classify", "process"):
                P.append(f"{cn}: firn {sub} without --config")
            one_cfg = cfg or (next(iter(configs.values())) if len(configs) == 1 else None)
            if sub in ("serve", "run") and cfg:
                vals = cfg[0]
                lport = vals["server.listen"].rsplit(":", 1)[-1]
                host = vals["server.listen"].rsplit(":", 1)[0]
                if host in ("127.0.0.1", "localhost", "[::1]"):
                    P.append(f"{cn}: server.listen {vals['server.listen']} is loopback: probes and Services cannot reach it")
                if sub == "run" and vals["server.enabled"] != "true":
                    P.append(f"{cn}: server.enabled is false: nothing answers the probes")
                if not lport.isdigit() or int(lport) not in nums:
                    P.append(f"{cn}: server.listen port {lport} is not a declared containerPort {sorted(nums)}")
                for pn, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                    hg = (c.get(pn) or {}).get("httpGet")
                    if not hg or hg.get("path") != path:
                        P.append(f"{cn}: firn {sub} needs {pn} httpGet {path}")
            env = {e["name"]: e for e in c.get("env", []) or []}
            if one_cfg:
                vals, types = one_cfg
                if vals["catalog.uri"].startswith("postgresql://") and sub != "sim":
                    e = env.get("PGPASSWORD", {})
                    if "secretKeyRef" not in (e.get("valueFrom") or {}):
                        P.append(f"{cn}: catalog {vals['catalog.uri']}: PGPASSWORD must come from a Secret")
                if vals["warehouse"].startswith("s3://") and sub != "sim":
                    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                        if "secretKeyRef" not in ((env.get(k) or {}).get("valueFrom") or {}):
                            P.append(f"{cn}: warehouse {vals['warehouse']}: {k} must come from a Secret")
                if sub == "sim" and "--stream" in args and args[args.index("--stream") + 1] != vals["stream.uri"]:
                    P.append(f"{cn}: sim --stream {args[args.index('--stream') + 1]} is not stream.uri {vals['stream.uri']}")
                if sub == "maintain":
                    if glob.get("--catalog") != vals["catalog.uri"]:
                        P.append(f"{cn}: --catalog {glob.get('--catalog')} is not catalog.uri {vals['catalog.uri']}")
                    if glob.get("--warehouse") != vals["warehouse"]:
                        P.append(f"{cn}: --warehouse {glob.get('--warehouse')} is not warehouse {vals['warehouse']}")
                    want = {t for ty in types for t in ty[2:4]}
                    got = {a for a in args[2:] if not a.startswith("-")}
                    if got != want:
                        P.append(f"{cn}: maintains {sorted(got)}, firn.yaml's tables are {sorted(want)}")
                if sub == "process":
                    topic = args[args.index("--topic") + 1] if "--topic" in args else None
                    if topic not in {ty[1] for ty in types}:
                        P.append(f"{cn}: process --topic {topic} is not a configured type's topic")

    # --- Services select pods and reach a declared port
    for s in by_kind.get("Service", []):
        sel = s["spec"].get("selector") or {}
        hits = [(d, l) for d, l in pods if labels_match(sel, l)]
        if not hits:
            P.append(f"{name(s)}: selector {sel} matches no pod")
        for p in s["spec"].get("ports", []):
            tp = p.get("targetPort", p["port"])
            ok = False
            for d, _ in hits:
                for c, _ in containers(d):
                    for cp in c.get("ports", []) or []:
                        if tp in (cp.get("name"), cp["containerPort"]):
                            ok = True
            if hits and not ok:
                P.append(f"{name(s)}: targetPort {tp} is not a containerPort of the selected pods")

    # --- Kafka (Strimzi): topics sized for firn's events, KRaft node pools, network peers
    kafkas = {d["metadata"]["name"]: d for d in by_kind.get("Kafka", [])}
    if kafkas and configs:
        vals, types = next(iter(configs.values()))
        want = int(vals["limits.max-event-bytes"]) + KAFKA_FRAME_SLACK
        m = re.match(r"kafka://([^:,/]+):(\d+)", vals["stream.uri"])
        if not m or not m.group(1).endswith("-kafka-bootstrap") or m.group(1)[:-len("-kafka-bootstrap")] not in kafkas:
            P.append(f"stream.uri {vals['stream.uri']} is not the bootstrap Service of a Kafka here ({list(kafkas)})")
        for kn, k in kafkas.items():
            ann = k["metadata"].get("annotations", {})
            if ann.get("strimzi.io/kraft") != "enabled" or ann.get("strimzi.io/node-pools") != "enabled":
                P.append(f"Kafka/{kn}: needs annotations strimzi.io/kraft and strimzi.io/node-pools: enabled")
            roles = set()
            for np in by_kind.get("KafkaNodePool", []):
                if np["metadata"].get("labels", {}).get("strimzi.io/cluster") == kn:
                    roles |= set(np["spec"].get("roles", []))
            if not {"controller", "broker"} <= roles:
                P.append(f"Kafka/{kn}: KafkaNodePools give roles {sorted(roles)}, need controller and broker")
            kc = k["spec"]["kafka"].get("config", {})
            for key in ("message.max.bytes", "replica.fetch.max.bytes"):
                if int(kc.get(key, 1048588)) < want:
                    P.append(f"Kafka/{kn}: {key} {kc.get(key, 'default')} < limits.max-event-bytes + 64KiB = {want}")
            listeners = k["spec"]["kafka"].get("listeners", [])
            if m and not any(str(l["port"]) == m.group(2) for l in listeners):
                P.append(f"Kafka/{kn}: no listener on port {m.group(2)} of stream.uri")
            for l in listeners:
                for peer in l.get("networkPolicyPeers", []) or []:
                    psel = (peer.get("podSelector") or {}).get("matchLabels", {})
                    for d, lab in pods:
                        if any(firn_args(c) for c, _ in containers(d)) and not labels_match(psel, lab):
                            P.append(f"{name(d)}: its pods {lab} are not admitted by Kafka listener {l['name']} peers {psel}")
        topics = {}
        for t in by_kind.get("KafkaTopic", []):
            tn = t["spec"].get("topicName", t["metadata"]["name"])
            topics[tn] = t
            if t["metadata"].get("labels", {}).get("strimzi.io/cluster") not in kafkas:
                P.append(f"KafkaTopic/{tn}: strimzi.io/cluster names no Kafka here")
            mmb = int((t["spec"].get("config") or {}).get("max.message.bytes", 1048588))
            if mmb != want:
                P.append(f"KafkaTopic/{tn}: max.message.bytes {mmb} != limits.max-event-bytes + 64KiB = {want}")
            if str(t["spec"].get("partitions")) != vals["stream.partitions"]:
                P.append(f"KafkaTopic/{tn}: partitions {t['spec'].get('partitions')} != stream.partitions {vals['stream.partitions']}")
        used = {vals["stream.raw-topic"], vals["stream.dead-letter-topic"]} | {ty[1] for ty in types}
        for u in sorted(used - set(topics)):
            P.append(f"topic {u} (used by firn.yaml) has no KafkaTopic; firn does not auto-create on Kafka")

    # --- PostgreSQL catalog (CloudNativePG)
    for cl in by_kind.get("Cluster", []):
        for vals, _ in configs.values():
            m = re.match(r"postgresql://([^@/:]+)@([^:/]+)(?::\d+)?/(\w+)", vals["catalog.uri"])
            init = cl["spec"].get("bootstrap", {}).get("initdb", {})
            if not m or m.group(2) != cl["metadata"]["name"] + "-rw" or m.group(1) != init.get("owner") \
                    or m.group(3) != init.get("database"):
                P.append(f"catalog.uri {vals['catalog.uri']} does not name Cluster/{cl['metadata']['name']}'s -rw Service, owner and database")
        for d in workloads:
            for c, _ in containers(d):
                ref = ((({e["name"]: e for e in c.get("env", []) or []}.get("PGPASSWORD") or {}).get("valueFrom") or {}).get("secretKeyRef"))
                if ref and ref["name"] != cl["metadata"]["name"] + "-app":
                    P.append(f"{name(d)}: PGPASSWORD from Secret {ref['name']}, CloudNativePG creates {cl['metadata']['name']}-app")

    # --- what each overlay promises
    firn_pods = [(d, l) for d, l in pods if any(firn_args(c) for c, _ in containers(d))]
    def sub_of(d):
        for c, _ in containers(d):
            fa = firn_args(c)
            if fa and fa[0]:
                return fa[0][0]
    if expect == "production":
        for d, _ in firn_pods:
            spec, _ = pod_spec(d)
            sub = sub_of(d)
            if sub == "sim":
                if (spec.get("nodeSelector") or {}).get("nvidia.com/gpu.present") != "true" or \
                        not tolerates(spec.get("tolerations"), "nvidia.com/gpu", None, "NoSchedule"):
                    P.append(f"{name(d)}: the simulator must run on GPU nodes (nodeSelector + toleration)")
            elif sub in ("classify", "process", "maintain"):
                if (spec.get("nodeSelector") or {}).get("firn.io/pool") != "compute" or \
                        not tolerates(spec.get("tolerations"), "firn.io/pool", "compute", "NoSchedule"):
                    P.append(f"{name(d)}: processing must run on compute nodes (nodeSelector + toleration)")
        subs = {sub_of(d) for d, _ in firn_pods}
        for want in ("serve", "classify", "process", "maintain", "sim"):
            if want not in subs:
                P.append(f"production: no firn {want} workload")
    if expect == "local":
        runs = [d for d, _ in firn_pods]
        if len(runs) != 1 or sub_of(runs[0]) != "run":
            P.append(f"local: expected one firn run workload, found {[name(d) for d in runs]}")
        else:
            d = runs[0]
            if d["spec"].get("replicas", 1) != 1 or d["spec"].get("strategy", {}).get("type") != "Recreate":
                P.append(f"{name(d)}: one pod only: replicas 1 and strategy Recreate")
            spec, _ = pod_spec(d)
            pvcs = {v["name"] for v in spec.get("volumes", []) if "persistentVolumeClaim" in v}
            c = spec["containers"][0]
            mounts = [m["mountPath"].rstrip("/") + "/" for m in c.get("volumeMounts", []) if m["name"] in pvcs]
            vals = next(iter(configs.values()))[0] if configs else None
            if vals:
                for what, p in (("stream.uri", vals["stream.uri"].split(":", 1)[1]),
                                ("catalog.uri", vals["catalog.uri"].split(":", 1)[1]),
                                ("warehouse", vals["warehouse"])):
                    if not any(p.startswith(m) for m in mounts):
                        P.append(f"{name(d)}: {what} {p} is not on the PersistentVolumeClaim ({mounts})")
    if expect == "bi":
        services = {}
        for o in others:
            for d in o:
                if d["kind"] == "Service":
                    services[d["metadata"]["name"]] = d
        for cm in cms.values():
            props = (cm.get("data") or {}).get("iceberg.properties")
            if props is None:
                continue
            kv = dict(re.match(r"([^=]+)=(.*)", l).groups() for l in props.splitlines() if "=" in l and not l.startswith("#"))
            if kv.get("connector.name") != "iceberg" or kv.get("iceberg.catalog.type") != "rest":
                P.append(f"{name(cm)}: not an Iceberg connector on a REST catalog")
            m = re.match(r"http://([^:/]+):(\d+)/iceberg$", kv.get("iceberg.rest-catalog.uri", ""))
            svc = services.get(m.group(1)) if m else None
            if not svc or not any(str(p["port"]) == m.group(2) for p in svc["spec"]["ports"]):
                P.append(f"{name(cm)}: iceberg.rest-catalog.uri {kv.get('iceberg.rest-catalog.uri')} is not firn serve's /iceberg on a Service of the firn render")
        dash = next((cm for cm in cms.values() if any(k.startswith("dashboards__") for k in cm.get("data", {}))), None)
        if not dash:
            P.append("bi: no Superset dashboard export")
        else:
            files = {k: yaml.safe_load(v) for k, v in dash["data"].items()}
            uuids = {v["uuid"]: k for k, v in files.items() if isinstance(v, dict) and "uuid" in v}
            for k, v in files.items():
                for ref in ("database_uuid", "dataset_uuid"):
                    if isinstance(v, dict) and ref in v and v[ref] not in uuids:
                        P.append(f"bi: {k}: {ref} {v[ref]} is not in the export")
                if k.startswith("dashboards__"):
                    for pos in v["position"].values():
                        if isinstance(pos, dict) and pos.get("type") == "CHART" and pos["meta"]["uuid"] not in uuids:
                            P.append(f"bi: {k}: chart {pos['meta']['uuid']} is not in the export")
                if k.startswith("datasets__"):
                    tables = set(re.findall(r'iceberg\.(\w+)\."(\w+)\$snapshots"', v["sql"]))
                    base_cfg = [fc for o in others for fc in [None]]
                    want = set()
                    for o in others:
                        for d in o:
                            t = (d.get("data") or {}).get("firn.yaml") if d["kind"] == "ConfigMap" else None
                            if t:
                                prob, _, types = firn.config(t)
                                want |= {tuple(x.split(".", 1)) for ty in types for x in ty[2:4]}
                    if want and tables != want:
                        P.append(f"bi: {k}: charts tables {sorted(tables)}, firn writes {sorted(want)}")

    # --- ArgoCD: syncs this overlay, automated, pruned, self-healed, allowed by its project
    if argocd:
        apps = [d for f in sorted(os.listdir(argocd)) if f.endswith(".yaml")
                for d in yaml.safe_load_all(open(os.path.join(argocd, f))) if d]
        projects = {d["metadata"]["name"]: d for d in apps if d["kind"] == "AppProject"}
        for a in (d for d in apps if d["kind"] == "Application"):
            src, sp = a["spec"]["source"], a["spec"].get("syncPolicy", {})
            if not os.path.isfile(os.path.join(root, src["path"], "kustomization.yaml")):
                P.append(f"Application/{a['metadata']['name']}: path {src['path']} is not a kustomization")
            auto = sp.get("automated") or {}
            if not (auto.get("prune") and auto.get("selfHeal")):
                P.append(f"Application/{a['metadata']['name']}: automated sync needs prune and selfHeal")
            pr = projects.get(a["spec"]["project"])
            if not pr:
                P.append(f"Application/{a['metadata']['name']}: project {a['spec']['project']} is not defined")
                continue
            if src["repoURL"] not in pr["spec"].get("sourceRepos", []):
                P.append(f"AppProject/{pr['metadata']['name']}: does not allow {src['repoURL']}")
            dst = a["spec"]["destination"]
            if not any(x.get("namespace") in (dst["namespace"], "*") and x.get("server") == dst.get("server")
                       for x in pr["spec"].get("destinations", [])):
                P.append(f"AppProject/{pr['metadata']['name']}: destination {dst} not allowed")
            allowed = {(x["group"], x["kind"]) for x in pr["spec"].get("namespaceResourceWhitelist", []) +
                       pr["spec"].get("clusterResourceWhitelist", [])}
            for d in docs:
                g = d["apiVersion"].split("/")[0] if "/" in d["apiVersion"] else ""
                if (g, d["kind"]) not in allowed and ("*", "*") not in allowed:
                    P.append(f"AppProject/{pr['metadata']['name']}: {g or 'core'}/{d['kind']} ({d['metadata']['name']}) is not whitelisted")
    return P


def load(path):
    return [d for d in yaml.safe_load_all(open(path)) if d]


def find(docs, kind, name_prefix):
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"].startswith(name_prefix))


def self_test(firn, image, prod, local):
    """Each break must be reported with a message containing its keyword."""
    def ctr(docs, n):
        spec, _ = pod_spec(find(docs, "Deployment", n) if n != "firn-maintain" else find(docs, "CronJob", n))
        return spec["containers"][0]
    def set_yaml(docs, fn):
        cm = find(docs, "ConfigMap", "firn-config")
        y = yaml.safe_load(cm["data"]["firn.yaml"]); fn(y); cm["data"]["firn.yaml"] = yaml.safe_dump(y)
    breaks = [
        ("inlined password", "inlined", lambda d: ctr(d, "firn-serve")["env"].__setitem__(0, {"name": "PGPASSWORD", "value": "hunter2"})),
        ("Secret committed", "Secret is committed", lambda d: d.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "firn-s3"}, "stringData": {"a": "b"}})),
        ("password in catalog URI", "password", lambda d: set_yaml(d, lambda y: y["catalog"].__setitem__("uri", "postgresql://firn:hunter2@firn-catalog-rw:5432/firn"))),
        ("unknown firn.yaml key", "unknown key", lambda d: set_yaml(d, lambda y: y["pipeline"].__setitem__("comit-interval", "1s"))),
        ("topic too small", "max.message.bytes", lambda d: find(d, "KafkaTopic", "parking-entry")["spec"]["config"].__setitem__("max.message.bytes", 1048588)),
        ("event limit raised", "max.message.bytes", lambda d: set_yaml(d, lambda y: y["limits"].__setitem__("max-event-bytes", "16MiB"))),
        ("topic missing", "has no KafkaTopic", lambda d: d.remove(find(d, "KafkaTopic", "dead-letter"))),
        ("Service selects nothing", "matches no pod", lambda d: find(d, "Service", "firn-serve")["spec"]["selector"].__setitem__("app.kubernetes.io/component", "server")),
        ("selector vs labels", "does not match its pod labels", lambda d: find(d, "Deployment", "firn-classify")["spec"]["selector"]["matchLabels"].__setitem__("app.kubernetes.io/component", "classifier")),
        ("no readiness probe", "readinessProbe", lambda d: ctr(d, "firn-serve").pop("readinessProbe")),
        ("loopback listen", "loopback", lambda d: set_yaml(d, lambda y: y["server"].__setitem__("listen", "127.0.0.1:8080"))),
        ("image latest", "pinned tag", lambda d: ctr(d, "firn-classify").__setitem__("image", "ghcr.io/firn-project/firn:latest")),
        ("image drift", "expected", lambda d: ctr(d, "firn-sim").__setitem__("image", "ghcr.io/firn-project/firn:0.0.9")),
        ("no memory limit", "resources.limits.memory", lambda d: ctr(d, "firn-process-parking-exit")["resources"]["limits"].pop("memory")),
        ("maintain misses a table", "maintains", lambda d: ctr(d, "firn-maintain")["args"].remove("staging.parking_exit_untrusted")),
        ("maintain other catalog", "--catalog", lambda d: ctr(d, "firn-maintain")["args"].__setitem__(1, "postgresql://firn@other:5432/firn")),
        ("sim off GPU", "GPU", lambda d: pod_spec(find(d, "Deployment", "firn-sim"))[0].pop("tolerations")),
        ("process off compute", "compute", lambda d: pod_spec(find(d, "Deployment", "firn-process-parking-entry"))[0].pop("nodeSelector")),
        ("sim to another stream", "stream.uri", lambda d: ctr(d, "firn-sim")["args"].__setitem__(-1, "kafka://elsewhere:9092")),
        ("ZooKeeper-era Kafka", "kraft", lambda d: find(d, "Kafka", "firn-kafka")["metadata"]["annotations"].pop("strimzi.io/kraft")),
        ("catalog Secret name", "CloudNativePG", lambda d: ctr(d, "firn-serve")["env"][0]["valueFrom"]["secretKeyRef"].__setitem__("name", "pg")),
    ]
    local_breaks = [
        ("spool off the PVC", "PersistentVolumeClaim", lambda d: set_yaml(d, lambda y: y["stream"].__setitem__("uri", "spool:/tmp/spool"))),
        ("two run pods", "Recreate", lambda d: find(d, "Deployment", "firn-run")["spec"].__setitem__("replicas", 2)),
    ]
    fails = 0
    for docs, expect, bl in ((prod, "production", breaks), (local, "local", local_breaks)):
        clean = check(docs, firn, image, expect)
        if clean:
            print(f"FAIL {expect}: the unbroken render is not clean: {clean}"); fails += 1
        for what, kw, fn in bl:
            d = copy.deepcopy(docs)
            fn(d)
            probs = check(d, firn, image, expect)
            if any(kw.lower() in p.lower() for p in probs):
                print(f"ok   caught: {what}")
            else:
                print(f"FAIL not caught: {what} (wanted '{kw}', got {probs})"); fails += 1
    return fails


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--firn", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--expect", default="base")
    ap.add_argument("--with", dest="others", action="append", default=[])
    ap.add_argument("--argocd")
    ap.add_argument("--root", default=".")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("render", nargs="+")
    a = ap.parse_args()
    firn = Firn(a.firn)
    if a.self_test:
        sys.exit(1 if self_test(firn, a.image, load(a.render[0]), load(a.render[1])) else 0)
    docs = load(a.render[0])
    probs = check(docs, firn, a.image, a.expect, [load(o) for o in a.others], a.argocd, a.root)
    for p in probs:
        print(p)
    print(f"{a.render[0]}: {len(docs)} resources, {len(probs)} problems")
    sys.exit(1 if probs else 0)


if __name__ == "__main__":
    main()
