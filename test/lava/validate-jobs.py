#!/usr/bin/python3
# Validates LAVA job definitions against LAVA's own schema, strictly (every key
# must be one the schema knows), as `lavacli jobs validate --strict` and the
# server's POST /api/v0.2/jobs/validate/ with strict=true do:
#   lava_common.schemas.validate(data, strict=True, extra_context_variables=[])
# (lava-common 2023.01: /usr/lib/python3/dist-packages/lava_common/schemas/__init__.py,
# `def validate(data, strict=True, extra_context_variables=[])`; the server passes
# settings.EXTRA_CONTEXT_VARIABLES, [] by default).
#
#   /usr/bin/python3 test/lava/validate-jobs.py FILE...
#
# Prints one JSON line per file: {"file": …, "ok": true} or
# {"file": …, "ok": false, "error": "<message> @ <path>"}; exits 0 iff all are valid
# (2 on a usage error). Needs Debian's lava-common (LAVA_TEST_PACKAGES in
# harness/doctor.ts); run by another python3 (e.g. pyenv's), it re-runs itself
# with /usr/bin/python3, the one lava-common is installed for.
import json
import os
import sys

SYSTEM_PYTHON = "/usr/bin/python3"

try:
    import voluptuous
    import yaml
    from lava_common.schemas import validate
except ImportError as exc:
    if os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON) and os.path.exists(SYSTEM_PYTHON):
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, *sys.argv])
    sys.stderr.write(
        "validate-jobs.py: cannot import LAVA's schema (%s); install lava-common (apt-get install lava-common)\n" % exc
    )
    sys.exit(2)


def path_str(path):
    out = ""
    for p in path:
        out += "[%d]" % p if isinstance(p, int) else ("." if out else "") + str(p)
    return out


def check(name):
    try:
        with open(name, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as exc:
        return {"file": name, "ok": False, "error": "unreadable: %s" % exc}
    if not isinstance(data, dict):
        return {"file": name, "ok": False, "error": "not a YAML mapping"}
    try:
        validate(data, strict=True, extra_context_variables=[])
    except voluptuous.MultipleInvalid as exc:
        return {
            "file": name,
            "ok": False,
            "error": "; ".join("%s @ %s" % (e.msg, path_str(e.path)) if e.path else e.msg for e in exc.errors),
        }
    except voluptuous.Invalid as exc:
        return {"file": name, "ok": False, "error": "%s @ %s" % (exc.msg, path_str(exc.path)) if exc.path else exc.msg}
    except Exception as exc:  # the schema's own checks index into the data
        return {"file": name, "ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}
    return {"file": name, "ok": True}


def main(argv):
    if not argv:
        sys.stderr.write("usage: validate-jobs.py FILE...\n")
        return 2
    ok = True
    for name in argv:
        r = check(name)
        ok = ok and r["ok"]
        print(json.dumps(r), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
