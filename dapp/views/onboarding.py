"""Community onboarding (community admin, platform admin): upload a manifest, see at once what is wrong with it
(every fault with its path), preview what the platform would change, import it; and review the anomalies of
readings that never came (docs/onboarding.md)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from dapp.i18n import t
from dapp.views import common
from lec.community.manifest import Fault, ManifestError, parse_manifest

P = "onboarding_"

identity = common.signed_in()
st.title(t("onboarding.title"))
api = common.api(identity)
manifest_tab, anomalies_tab = st.tabs([t("onboarding.tab.import"), t("onboarding.tab.anomalies")])


def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The manifest's rows with the fields' names in the reader's language and empty cells left empty."""
    frame = pd.DataFrame(rows).astype(object)
    return frame.where(frame.notna(), "").rename(columns=lambda c: t(f"onboarding.field.{c}"))


def _fault(fault: Fault) -> str:
    """One fault of the manifest in the reader's language: its path (the manifest's own field names) and sentence."""
    sentence = t(f"onboarding.fault.{fault.code}", **fault.params)
    return t("onboarding.fault.at", path=fault.path, sentence=sentence) if fault.path else sentence


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in counts.items()) or t("onboarding.none")


with manifest_tab:
    st.caption(t("onboarding.intro"))
    upload = st.file_uploader(t("onboarding.upload"), type=["json"], key=f"{P}upload")
    if upload is not None:
        raw = upload.getvalue()
        manifest = None
        try:
            raw.decode("utf-8")
            manifest = parse_manifest(raw)
        except UnicodeDecodeError:
            common.show_error(t("onboarding.not_utf8"))
        except ManifestError as exc:
            common.show_error(t("onboarding.invalid"))
            st.markdown("\n".join(f"- {common.plain(_fault(f))}" for f in exc.faults))
        if manifest is not None:
            c = manifest.community
            st.subheader(
                t(
                    "onboarding.summary",
                    chain_id=c.chain_id,
                    name=common.plain(c.name),
                    zone=c.zone,
                    members=len(manifest.members),
                    devices=len(manifest.devices),
                    plants=len(manifest.plants),
                )
            )
            members, devices, plants = st.tabs(
                [t("onboarding.members"), t("onboarding.devices"), t("onboarding.plants")]
            )
            members.dataframe(_table([m.model_dump() for m in manifest.members]), hide_index=True)
            devices.dataframe(
                _table([{**d.model_dump(), "flows": ", ".join(d.flows)} for d in manifest.devices]), hide_index=True
            )
            plants.dataframe(_table([p.model_dump(mode="json") for p in manifest.plants]), hide_index=True)
            body: dict[str, Any] = json.loads(raw)
            left, right = st.columns(2)
            if left.button(t("onboarding.preview"), key=f"{P}preview"):
                preview = common.attempt(lambda: api.post("/onboarding/manifest", body, params={"dry_run": "true"}))
                if preview is not None:
                    if preview["changed"]:
                        st.info(
                            t(
                                "onboarding.would",
                                created=_counts(preview["created"]),
                                updated=_counts(preview["updated"]),
                            )
                        )
                    else:
                        st.success(t("onboarding.nothing"))
            if right.button(t("onboarding.import"), type="primary", key=f"{P}import"):
                done = common.attempt(lambda: api.post("/onboarding/manifest", body))
                if done is not None:
                    st.success(t("onboarding.done", created=_counts(done["created"]), updated=_counts(done["updated"])))

with anomalies_tab:
    membership = common.pick_membership(P, identity)
    statuses = ["open", "reviewed", "resolved"]
    status = st.segmented_control(
        t("onboarding.anomalies.status"),
        statuses,
        default="open",
        format_func=lambda s: t(f"onboarding.status.{s}"),
        key=f"{P}status",
    )
    page = common.attempt(lambda: api.get(f"/communities/{membership.community_id}/anomalies", limit=500)) or {}
    rows = [a for a in page.get("items", []) if a["status"] == (status or "open")]
    if not rows:
        st.info(t("onboarding.anomalies.none"))
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        t("onboarding.col.detected"): a["detected_at"],
                        t("onboarding.col.device"): a["pod"],
                        t("onboarding.col.reason"): a["reason"],
                        t("onboarding.col.message"): a["message"],
                    }
                    for a in rows
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        if (status or "open") == "open":
            ids = [a["id"] for a in rows]
            labels = {a["id"]: f"{a['id']} · {a['pod']} · {a['reason']}" for a in rows}
            picked = st.selectbox(t("onboarding.anomalies.pick"), ids, format_func=labels.__getitem__, key=f"{P}pick")
            if st.button(t("onboarding.anomalies.mark"), key=f"{P}mark"):
                done = common.attempt(
                    lambda: api.patch(
                        f"/communities/{membership.community_id}/anomalies/{picked}", {"status": "reviewed"}
                    )
                )
                if done is not None:
                    st.success(t("onboarding.anomalies.marked", id=picked))
