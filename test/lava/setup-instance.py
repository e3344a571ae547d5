#!/usr/bin/python3
# Idempotent set-up of the local LAVA 2023.01 instance the LAVA tests use
# (test/lava/local-lava.ts runs it as root, once per start-up, in one Django
# start instead of one `lava-server manage` per object: ~2 s instead of ~15).
#
#   python3 setup-instance.py '{"user": …, "tokenDescription": …, "worker": …,
#                               "device": …, "tag": …, "dictionary": "…jinja2 text…"}'
#
# Creates what is missing and repairs what a previous run left behind:
#   - superuser `user` and one API token (description `tokenDescription`), reused;
#   - worker `worker`, health Active; its token is printed (it may have changed:
#     the caller passes it to lava-worker on every start);
#   - device type `qemu` with health checks disabled (no health-check job may
#     take the device);
#   - the device dictionary /etc/lava-server/dispatcher-config/devices/<device>.jinja2
#     (rewritten only when different; owned by lavaserver);
#   - device `device` on that worker, with tag `tag`, health Good, state Idle;
#   - every unfinished job (from a run killed mid-job: the caller holds the
#     machine-wide lock, so no live run owns one) is finished as Canceled, so
#     the device is free and no stale job takes it first.
# Prints one JSON line: {"token": …, "workerToken": …, "canceled": [ids]}.
import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lava_server.settings.prod")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import transaction  # noqa: E402
from lava_scheduler_app.models import Device, DeviceType, Tag, TestJob, Worker  # noqa: E402
from linaro_django_xmlrpc.models import AuthToken  # noqa: E402


def main(args):
    with transaction.atomic():
        user, _ = User.objects.get_or_create(
            username=args["user"], defaults={"email": "%s@localhost" % args["user"]}
        )
        if not (user.is_superuser and user.is_staff and user.is_active):
            user.is_superuser = user.is_staff = user.is_active = True
            user.set_unusable_password()
            user.save()
        token = AuthToken.objects.filter(
            user=user, description=args["tokenDescription"]
        ).order_by("id").first()
        if token is None:
            token = AuthToken.objects.create(user=user, description=args["tokenDescription"])

        worker, _ = Worker.objects.get_or_create(
            hostname=args["worker"],
            defaults={"description": "tracebench local LAVA worker", "health": Worker.HEALTH_ACTIVE},
        )
        if worker.health != Worker.HEALTH_ACTIVE:
            worker.health = Worker.HEALTH_ACTIVE
            worker.save()

        dt, _ = DeviceType.objects.get_or_create(name="qemu")
        if not dt.disable_health_check or not dt.display:
            dt.disable_health_check = True
            dt.display = True
            dt.save()

        path = Path(settings.DEVICES_PATH) / ("%s.jinja2" % args["device"])
        if not path.exists() or path.read_text(encoding="utf-8") != args["dictionary"]:
            path.write_text(args["dictionary"], encoding="utf-8")
        shutil.chown(path, "lavaserver", "lavaserver")

        tag, _ = Tag.objects.get_or_create(
            name=args["tag"], defaults={"description": "tracebench local LAVA device"}
        )

        canceled = []
        for job in TestJob.objects.select_for_update().exclude(state=TestJob.STATE_FINISHED):
            if job.state != TestJob.STATE_SUBMITTED and job.actual_device is not None:
                job.state = TestJob.STATE_CANCELING
            job.go_state_finished(TestJob.HEALTH_CANCELED)
            job.set_failure_comment("canceled by tracebench local-lava start-up: left over from a previous run")
            job.save()
            canceled.append(job.id)

        device, _ = Device.objects.get_or_create(
            hostname=args["device"],
            defaults={
                "device_type": dt,
                "worker_host": worker,
                "state": Device.STATE_IDLE,
                "health": Device.HEALTH_GOOD,
                "description": "tracebench local QEMU (TCG) device",
            },
        )
        device.device_type = dt
        device.worker_host = worker
        device.state = Device.STATE_IDLE
        device.health = Device.HEALTH_GOOD
        device.save()
        device.tags.add(tag)

    print(json.dumps({"token": token.secret, "workerToken": worker.token, "canceled": canceled}))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
