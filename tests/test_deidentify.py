import hashlib
import hmac

import duckdb
import pytest

from etl.deidentify import HmacKeyError, hmac_params, hmac_sql, key_fingerprint, resolve_key
from etl.pipeline import RunFailed, run
from tests.conftest import TEST_KEY, canonical_row, write_config, write_csv


@pytest.mark.parametrize("key", [b"k" * 40, b"x" * 64, b"long-key-" * 20])
def test_sql_hmac_equals_python_hmac(key):
    con = duckdb.connect()
    ids = ["INC-1", "", "PD20032400001494", "ü-ñ"]
    for pads in (None, hmac_params(key)):
        sql = f"select {hmac_sql('$m', pads)}"
        for m in ids:
            params = {"m": m, **(hmac_params(key) if pads is None else {})}
            got = con.execute(sql, params).fetchone()[0]
            assert got == hmac.new(key, m.encode(), hashlib.sha256).hexdigest()


def test_missing_key_stops_with_instructions(monkeypatch):
    monkeypatch.delenv("OUTCOMES_HMAC_KEY")
    with pytest.raises(HmacKeyError, match="secrets.token_hex"):
        resolve_key(None)


def test_short_key_refused(monkeypatch):
    monkeypatch.setenv("OUTCOMES_HMAC_KEY", "short")
    with pytest.raises(HmacKeyError, match="at least 32"):
        resolve_key(None)


def test_changed_key_is_refused_without_rebuild(tmp_path, monkeypatch):
    write_csv(tmp_path / "landing/a/a_1.csv", [canonical_row(incident_id=f"I{i}") for i in range(20)])
    cfg = write_config(tmp_path)
    run(cfg)
    monkeypatch.setenv("OUTCOMES_HMAC_KEY", "another-key-" + "9" * 30)
    write_csv(tmp_path / "landing/a/a_2.csv", [canonical_row(incident_id="NEW")])
    with pytest.raises(RunFailed, match="--rebuild"):
        run(cfg)
    assert run(cfg, rebuild=True).status == "ok"


def test_fingerprint_does_not_reveal_key():
    fp = key_fingerprint(TEST_KEY.encode())
    assert len(fp) == 16 and TEST_KEY not in fp
    assert fp != key_fingerprint(b"other")
