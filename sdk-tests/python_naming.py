"""Drives the official Python client (PyPI `nacos-sdk-python` 1.0.0, the last pure-HTTP
release) for native/tests/sdk.rs: one command per process, one JSON line per result on stdout.

    python python_naming.py register   127.0.0.1:8848 '{"service":"s","ip":"127.0.0.1","port":80}'
    python python_naming.py deregister 127.0.0.1:8848 '{"service":"s","ip":"127.0.0.1","port":80}'
    python python_naming.py list       127.0.0.1:8848 '{"service":"s"}'
    python python_naming.py subscribe  127.0.0.1:8848 '{"service":"s","seconds":30,"interval":1}'

`cluster_name="DEFAULT"` is always passed: the client's default sends the text `None`.
"""
import json
import os
import sys
import tempfile
import time

import nacos
from nacos.listener import SubscribeListener


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    cmd, server = sys.argv[1], sys.argv[2]
    a = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    log_dir = os.environ.get("SDK_LOG_DIR") or tempfile.mkdtemp(prefix="nacos-py-")
    client = nacos.NacosClient(server, namespace="public", logDir=log_dir)
    group = a.get("group", "DEFAULT_GROUP")
    if cmd == "register":
        ok = client.add_naming_instance(a["service"], a["ip"], a["port"], cluster_name="DEFAULT",
                                        metadata=a.get("metadata"), ephemeral=False,
                                        group_name=group)
        say({"ok": ok})
    elif cmd == "deregister":
        ok = client.remove_naming_instance(a["service"], a["ip"], a["port"], cluster_name="DEFAULT",
                                           ephemeral=False, group_name=group)
        say({"ok": ok})
    elif cmd == "list":
        say(client.list_naming_instance(a["service"], group_name=group,
                                        healthy_only=a.get("healthy_only", False)))
    elif cmd == "subscribe":
        started = time.time()

        def on_change(event, slc):
            say({"ms": int((time.time() - started) * 1000), "event": event, "instance": slc.instance})

        client.subscribe([SubscribeListener(on_change, "sdk-test")], a.get("interval", 1),
                         service_name=a["service"], group_name=group)
        say({"subscribed": True})
        time.sleep(a.get("seconds", 30))
        client.stop_subscribe()
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the test reads the line; the traceback goes to stderr
        import traceback
        traceback.print_exc()
        say({"error": str(e)})
        sys.exit(1)
