"""The log files of a results folder (results-reference.md, DOMAIN.md sections 1 and 7): one Cloud Logging
LogEntry per key operation in kms_audit.jsonl with the audit fields and the exact reason strings, and one
per CMEK error in run_errors.jsonl with the exact published Cloud Run messages. The expected texts are
copied here from the domain notes on purpose (not imported from sim), typos and capitals included.
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from sim.results import read_csv, read_jsonl, read_summary, write_results

from test_kms_support import AGENT, key, key_name, run_summary, scenario, service

REASONS = {
    "Decrypting CMEK-encrypted layer during container clone start.": "Decrypt",
    "Decrypting an existing encrypted data-encryption-key, under the same customer-managed-encryption-key, "
    "to be used to encrypt container contents.": "Decrypt",
    "Encrypting a newly created data-encryption-key w/ the customer-managed-encryption-key.": "Encrypt",
    "Performing an encrypt operation on dummy data to check the customer-managed-encryption-key status and "
    "access.": "Encrypt",
    "Performing an decrypt operation on dummy data to check the customer-managed-encryption-key status and "
    "access.": "Decrypt",
}
MESSAGES = {
    "permission": "User's service account does not have CMEK decrypter permission. Service account: %s",
    "quota": "User's KMS operation quota has been exceeded. CMEK key: %s",
    "disabled": "User's CMEK key has been disabled. CMEK key: %s",
    "destroyed": "User's CMEK key has been destroyed. CMEK key: %s",
    "scheduled": "User's CMEK key has been scheduled for deletion. CMEK Key: %s",
}
GRPC = {0: "OK", 4: "DEADLINE_EXCEEDED", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED",
        9: "FAILED_PRECONDITION", 14: "UNAVAILABLE"}
START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Five services, each meeting one kind of CMEK error, plus a deploy, a KMS outage and an EKM key."""
    keys = [key("dis"), key("des"), key("sch"), key("quo", "external", "tight"), key("iam"), key("ext", "external")]
    services = [service("s-dis", "dis"), service("s-des", "des"), service("s-sch", "sch"),
                service("s-quo", "quo", traffic={"rate": [[0, 0.1], [100, 0.1], [110, 10], [200, 10],
                                                          [210, 0.1]]}, max_instances=500),
                service("s-iam", "iam"), service("s-ext", "ext")]
    faults = [{"at": 310, "kind": "key-disable", "key": "dis"}, {"at": 310, "kind": "key-destroy", "key": "des"},
              {"at": 310, "kind": "key-schedule-destroy", "key": "sch"},
              {"at": 310, "kind": "iam-revoke", "key": "iam"},
              {"at": 400, "kind": "deploy", "service": "s-ext"},
              {"at": 500, "kind": "kms-outage", "duration": 30}]
    data = scenario(duration=900, keys=keys, services=services, faults=faults,
                    start_time="2026-03-01T12:00:00Z",
                    kms={"quota": {"external_requests_per_minute": 120}})
    result = run_summary(data)
    return write_results(result, tmp_path_factory.mktemp("logs") / "r", plots=False), result


def test_every_audit_entry_has_the_logentry_fields(folder):
    path, result = folder
    entries = read_jsonl(path / "kms_audit.jsonl")
    raw = result.outputs[0].audit
    assert len(entries) == len(raw) > 100
    names = {k.id: k.name for k in result.scenario.keys}
    insert_ids = set()
    for entry, (t, svc, method, key_res, code, message, reason) in zip(entries, raw):
        key_project = key_res.split("/")[1]
        assert entry["logName"] == f"projects/{key_project}/logs/cloudaudit.googleapis.com%2Fdata_access"
        assert entry["logName"].endswith("cloudaudit.googleapis.com%2Fdata_access")
        ts = entry["timestamp"]
        assert RFC3339.match(ts), ts
        assert datetime.fromisoformat(ts.replace("Z", "+00:00")) - START == pytest.approx(
            timedelta(seconds=t), abs=timedelta(microseconds=1))
        assert entry["severity"] == ("INFO" if code == 0 else "ERROR")
        assert entry["insertId"] not in insert_ids
        insert_ids.add(entry["insertId"])
        assert entry["resource"]["type"] == "cloudkms_cryptokey"
        assert entry["resource"]["labels"]["crypto_key_id"] == key_res.split("/")[-1]
        proto = entry["protoPayload"]
        assert proto["@type"] == "type.googleapis.com/google.cloud.audit.AuditLog"
        assert proto["serviceName"] == "cloudkms.googleapis.com"
        assert proto["methodName"] in ("Encrypt", "Decrypt") and proto["methodName"] == method
        assert proto["resourceName"] == key_res and key_res in names.values()
        assert proto["authenticationInfo"]["principalEmail"] == AGENT
        assert proto["status"]["code"] == code and code in GRPC
        assert proto["status"]["message"] == (message or GRPC[code])
        assert proto["metadata"]["reason"] in REASONS
        assert REASONS[proto["metadata"]["reason"]] == proto["methodName"]
    seen_reasons = Counter(e["protoPayload"]["metadata"]["reason"] for e in entries)
    assert set(seen_reasons) == set(REASONS)          # all five, "Performing an decrypt" typo included
    codes = Counter(e["protoPayload"]["status"]["code"] for e in entries)
    assert {0, 7, 8, 9, 14} <= set(codes)
    assert entries[0]["timestamp"].startswith("2026-03-01T12:00:")


def test_one_audit_entry_per_key_operation(folder):
    path, result = folder
    entries = read_jsonl(path / "kms_audit.jsonl")
    summary = read_summary(path)["runs"][0]
    kms = summary["kms"]
    assert kms["operations"] == len(entries)
    assert sum(kms["operations_by_reason"].values()) == len(entries)
    assert kms["operations_by_reason"] == dict(Counter(e["protoPayload"]["metadata"]["reason"] for e in entries))
    by_code = Counter(GRPC[e["protoPayload"]["status"]["code"]] for e in entries
                      if e["protoPayload"]["status"]["code"])
    assert kms["errors_by_code"] == dict(by_code)
    assert kms["resource_exhausted"] == by_code["RESOURCE_EXHAUSTED"]
    ts = read_csv(path / "timeseries.csv")
    assert sum(r["kms_operations"] for r in ts) == len(entries)
    assert sum(r["kms_errors"] for r in ts) == sum(by_code.values())
    per_service = Counter(e["protoPayload"]["metadata"]["caller"].rsplit("/", 1)[1] for e in entries)
    for name in per_service:
        assert sum(r["kms_operations"] for r in ts if r["service"] == name) == per_service[name]
    usage = read_csv(path / "kms_usage.csv")
    assert sum(r["starts"] + r["validation"] + r["deploy"] for r in usage) == len(entries)
    # Starts: the second decrypt (the data-encryption-key) follows each successful first one (a
    # retryable UNAVAILABLE is retried with the same reason); the deploy: exactly one encrypt.
    layer, dek = [r for r in REASONS if r.startswith("Decrypting")]
    status = [(e["protoPayload"]["metadata"]["reason"], e["protoPayload"]["status"]["code"]) for e in entries]
    assert sum(1 for r, c in status if r == dek and c != 14) == sum(1 for r, c in status if r == layer and c == 0)
    deploy = [e for e in entries if e["protoPayload"]["metadata"]["reason"].startswith("Encrypting a newly")]
    assert len(deploy) == 1 and deploy[0]["protoPayload"]["resourceName"] == key_name("ext")


def test_run_errors_carry_the_exact_published_messages(folder):
    path, result = folder
    entries = read_jsonl(path / "run_errors.jsonl")
    by_service = {}
    for e in entries:
        assert e["severity"] == "ERROR"
        assert RFC3339.match(e["timestamp"])
        assert datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")) >= START
        assert e["resource"]["type"] == "cloud_run_revision"
        labels = e["resource"]["labels"]
        assert labels["location"] == "us-central1"
        assert re.fullmatch(rf"{labels['service_name']}-[a-z0-9-]*[a-z0-9]", labels["revision_name"])
        by_service.setdefault(labels["service_name"], set()).add(e["textPayload"])
    expected = {
        "s-dis": {MESSAGES["disabled"] % key_name("dis")},
        "s-des": {MESSAGES["destroyed"] % key_name("des")},
        "s-sch": {MESSAGES["scheduled"] % key_name("sch")},
        "s-quo": {MESSAGES["quota"] % key_name("quo", "tight")},
        "s-iam": {MESSAGES["permission"] % AGENT},
    }
    assert by_service == expected
    assert "CMEK Key: projects/" in next(iter(expected["s-sch"]))          # capital K as published
    assert by_service["s-iam"] == {"User's service account does not have CMEK decrypter permission. "
                                   "Service account: service-123456789012@serverless-robot-prod.iam."
                                   "gserviceaccount.com"}
    # Every failed start has its log line (same service, same time).
    instances = read_csv(path / "instances.csv")
    failed = Counter((r["service"], round(r["stopped_at"], 6)) for r in instances if r["start_error"])
    logged = Counter((e["resource"]["labels"]["service_name"],
                      round((datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")) - START)
                            .total_seconds(), 6)) for e in entries)
    assert all(logged[k] >= n for k, n in failed.items())
    # The summary counts each failure under its name.
    services = read_summary(path)["runs"][0]["services"]
    assert services["s-dis"]["instance_starts_failed"]["key_disabled"] > 0
    assert services["s-des"]["instance_starts_failed"]["key_destroyed"] > 0
    assert services["s-sch"]["instance_starts_failed"]["key_destroy_scheduled"] > 0
    assert services["s-quo"]["instance_starts_failed"]["quota_exceeded"] > 0
    assert services["s-iam"]["instance_starts_failed"]["permission_denied"] > 0
    assert sum(services["s-ext"]["instance_starts_failed"].values()) == 0
