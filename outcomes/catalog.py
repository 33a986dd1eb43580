"""The published schema: every public table, its grain, measures, universe and definition.

The ETL writes this as the `catalog` table of the public file; the app reads names from it
as its allowlist. Grain and measures are comma-separated column names. Dimension columns
are text, and a dimension rolled up to a total holds 'all'. A hidden count is NULL with
`<measure>_flag` says why: 'hidden' (a count under the minimum cell, or one hidden so that
such a count cannot be worked out from the others: one flag for both, as statistical
agencies use one symbol, so the flag gives no hint which are the small ones),
'under_minimum' (the row's denominator is under the minimum for a rate, so none of its
counts is printed) or 'not_published' (this grain is published for longer periods or
citywide only). A rate's `rate_flag` says the same of the rate; a median's `times_flag`
is 'under_minimum' where fewer valid times than the minimum lie behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT_DIMENSIONS = {
    "period_type", "period", "district", "call_type_group", "responder_type", "item",
    "unserved_reason", "involvement", "event", "outcome", "interval", "call_origin",
    "hour_of_day", "weekday", "comparison", "hour_band", "division", "node", "parent_node",
    "node_kind", "release", "previous_release", "table_name", "measure", "revision",
}
# (officer_involved_shootings.period is a year or '2010-2014': text too, via "period")

PERIOD_TYPES = ("month", "quarter", "year", "fiscal_year", "pilot_to_date")

PUBLIC_UNIVERSE = ("Public-initiated calls (911, 988, non-emergency) of the pilot's call type "
                   "groups, all areas and hours.")


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    grain: str
    measures: str
    universe: str
    description: str
    estimate: bool = False

    def boundary_plan(self, council_plan: str) -> str:
        """Which boundaries the table's geography follows ('' for citywide tables)."""
        keys = set(self.grain.split(","))
        parts = []
        if "district" in keys:
            parts.append(f"council districts, {council_plan} plan")
        if "division" in keys or self.estimate:  # estimates are spread from divisions
            parts.append("LAPD divisions (file checksum in division_crosswalk)")
        return "; ".join(parts)


TABLES: tuple[Table, ...] = (
    Table("responses", "Responses by responder type",
          "period_type,period,district,call_type_group,responder_type", "responses",
          PUBLIC_UNIVERSE,
          "Calls each responder type answered (civilian team, co-response, police, fire/EMS, "
          "phone): the denominator of the outcome and event rates. Responder types are "
          "never added up here."),
    Table("coverage", "Coverage (diversion) rate",
          "period_type,period,district,call_type_group",
          "eligible_calls,civilian_calls,coverage_rate,coverage_rate_ci_low,coverage_rate_ci_high",
          "Eligible calls: public-initiated calls of a pilot call type, in pilot area and hours, "
          "passing the screen.",
          "Eligible calls answered by a civilian crisis team, divided by eligible calls. "
          "95% Wilson interval."),
    Table("unserved", "Eligible calls not answered by a civilian team, by reason",
          "period_type,period,district,call_type_group,unserved_reason", "calls",
          "Eligible calls (as for coverage) answered by any other responder or none.",
          "The reason recorded by dispatch; 'not_recorded' where none was given. The reasons "
          "are printed citywide for years, fiscal years and pilot to date, and by district and "
          "call type for pilot to date; the 'all' row wherever the coverage rate is."),
    Table("eligibility_funnel", "Eligibility funnel: from every call to a civilian team's answer",
          "period_type,period,district,call_type_group,node",
          "calls,share_of_parent,share_of_parent_ci_low,share_of_parent_ci_high",
          PUBLIC_UNIVERSE,
          "Each step (node_kind 'stage') splits the stage before (parent_node) into the calls "
          "that went on and those that dropped out there ('drop_off'), a drop-off further by "
          "its recorded reason ('reason'; 'not_recorded' where none was given): calls -> in "
          "the pilot area -> in its hours -> screen recorded -> eligible (passed the screen) -> "
          "answered by a civilian team. share_of_parent: calls / the parent's calls, 95% Wilson "
          "interval. Eligible, answered and not-answered calls are those of the coverage and "
          "unserved tables. Printed citywide and by call type for every period, by district "
          "for quarters and longer, where the eligible calls are shown."),
    Table("crisis_line", "The crisis line's part: calls through 988, and calls resolved by phone",
          "period_type,period,district,call_type_group",
          "calls,calls_988,share_988,share_988_ci_low,share_988_ci_high,calls_911,"
          "calls_non_emergency,resolved_by_phone",
          PUBLIC_UNIVERSE,
          "calls: the eligibility funnel's first step; calls_988, calls_911, calls_non_emergency: "
          "those that arrived through the 988 crisis line, 911 and the non-emergency line "
          "(call_origin); share_988 = calls_988 / calls, 95% Wilson interval. resolved_by_phone: "
          "calls resolved by phone with no unit sent (responder_type phone; the responses "
          "table's count). Printed where the funnel is."),
    Table("workload_share", "Civilian share of crisis calls handled (police workload taken on)",
          "period_type,period,district,call_type_group",
          "handled_calls,civilian_team_calls,co_response_calls,police_calls,workload_share,"
          "workload_share_ci_low,workload_share_ci_high",
          "Public-initiated calls of pilot call types in pilot area and hours, whatever the "
          "screen, answered by a civilian team, co-response or police.",
          "Civilian-handled calls divided by civilian + police + co-response calls. Shown beside "
          "the coverage rate, never instead of it. Officer- and self-initiated records are "
          "never in the denominator."),
    Table("police_involvement", "Police involvement in civilian responses, per 1,000",
          "period_type,period,district,call_type_group,responder_type,involvement",
          "responses,recorded,events,not_recorded,per_1000,per_1000_ci_low,per_1000_ci_high",
          "Civilian-team responses to public-initiated calls of pilot call types where the "
          "item was recorded (true or false).",
          "Three separate numbers, never summed: police co-dispatched, police backup requested, "
          "call redirected to police; per 1,000 civilian responses with the item recorded."),
    Table("outcomes", "Outcomes by responder type, per 1,000 responses",
          "period_type,period,district,call_type_group,responder_type,outcome",
          "responses,calls,per_1000,per_1000_ci_low,per_1000_ci_high",
          PUBLIC_UNIVERSE,
          "How the call ended (one disposition per call): resolved on scene, transported to a "
          "community service or hospital, involuntary hold (5150), arrest, ... per 1,000 "
          "responses of that responder type."),
    Table("outcome_events", "Arrests, citations, use of force, injuries and referrals, per 1,000",
          "period_type,period,district,call_type_group,responder_type,event",
          "responses,recorded,events,not_recorded,per_1000,per_1000_ci_low,per_1000_ci_high",
          PUBLIC_UNIVERSE + " Only responses where the item was recorded are in the denominator.",
          "Not matched: responder types answer different calls. For a fair comparison of force "
          "and injuries see use_of_force_matched. Never per arrest."),
    Table("use_of_force_matched", "Use of force and injuries on matched calls, per 1,000",
          "comparison,period_type,period,district,responder_type,event",
          "matched_calls,recorded,events,per_1000,per_1000_ci_low,per_1000_ci_high,"
          "standardized_per_1000",
          "Calls in strata (call type group x council district x 6-hour band, within the "
          "period) where both the civilian team and the compared responder type answered. "
          "A row is withheld where its counts could equal a hidden count elsewhere.",
          "Crude rate over matched calls with 95% Wilson interval, and a rate standardised to "
          "the civilian team's mix of strata. Citywide only."),
    Table("response_times", "Response times, minutes",
          "period_type,period,district,call_type_group,responder_type,interval",
          "p25_minutes,median_minutes,p75_minutes,p90_minutes,valid_intervals,missing_intervals,"
          "negative_intervals,over_24h_intervals",
          PUBLIC_UNIVERSE + " Responders sent to the scene (not phone).",
          "dispatch_to_scene: assigned (dispatched) to on scene; received_to_scene: call "
          "received to on scene. Quartiles and 90th percentile by linear interpolation between "
          "the two nearest intervals, computed exactly and rounded half up to 0.1 minute; invalid "
          "intervals (missing, negative, over 24 hours) are excluded and counted."),
    Table("response_times_by_hour_band", "Response times by 6-hour band of the call (citywide)",
          "period_type,period,responder_type,hour_band,interval",
          "p25_minutes,median_minutes,p75_minutes,p90_minutes",
          PUBLIC_UNIVERSE + " Responders sent to the scene (not phone); citywide; years, fiscal "
          "years and pilot to date.",
          "As response_times, by the hour the call was received (00-06, 06-12, 12-18, 18-24). "
          "No counts are published here: a band appears only where it has at least 20 valid "
          "intervals (flagged unstable under 50)."),
    Table("calls_by_hour", "Calls by hour of day and weekday (citywide)",
          "period_type,period,responder_type,hour_of_day,weekday", "calls",
          PUBLIC_UNIVERSE, "Hour of day and weekday are published citywide only, for pilot to date."),
    Table("other_contacts", "Officer- and self-initiated records (counted apart)",
          "period_type,period,district,call_origin,responder_type", "records",
          "Records with call_origin officer_initiated or self_initiated (e.g. outreach).",
          "Never part of any denominator."),
    Table("repeat_contact", "Repeat contact within 30 and 90 days",
          "period_type,period,window_days", "repeat_rate,repeat_rate_ci_low,repeat_rate_ci_high",
          "People (linked only inside the private warehouse, per provider) with a contact in "
          "the period early enough for the whole window to be observed.",
          "Share of those people with another contact within the window, for fiscal years and "
          "pilot to date. Published only as rates; a rate whose numerator is under the minimum "
          "cell is withheld, and with it the window's other fiscal years."),
    Table("districts", "Council districts (2021 plan)", "district",
          "area_sq_mi,geometry_geojson", "The 15 Los Angeles City Council districts.",
          "Display geometry (simplified; never used for assignment), with the checksum of the "
          "boundary file the calls were assigned with."),
    Table("divisions", "LAPD divisions", "division", "geometry_geojson",
          "The 21 LAPD divisions (the division boundary file the crosswalk was built from).",
          "Display geometry (simplified), with the file's checksum; used to draw where the "
          "pilot serves."),
    Table("division_crosswalk", "LAPD divisions to council districts (area-weighted)",
          "division,district", "area_sq_mi,share,in_city_share",
          "The 21 LAPD divisions and the 15 council districts (2021 plan). Boundaries, not calls.",
          "share: the part of the division's area (inside the city) that lies in the district; "
          "each division's shares sum to 1. Computed in California Albers (EPSG:3310); slivers "
          "under 0.5% of a division, where two boundary files disagree by metres, are dropped "
          "before normalising. in_city_share: how much of the division lies in any council "
          "district. Figures estimated into districts through it are marked as estimates."),
    Table("police_baseline", "Police baseline: LAPD calls by division and call type group",
          "period_type,period,division,call_type_group", "calls",
          "Every record in the City's 'LAPD Calls for Service' export (calls LAPD dispatched "
          "and records officers logged), all call types, counted in the month LAPD dispatched "
          "them. Counted apart from the pilot's figures, never added to them.",
          "division: the 21 LAPD divisions, outside_lapd_areas (LAPD's 'Outside') and unknown; "
          "'all' is their sum. call_type_group: the code table's groups and 'other' (codes it "
          "does not know); pilot_types sums the pilot's groups; dispatched is every group but "
          "officer_initiated; 'all' = dispatched + officer_initiated. Officer-initiated "
          "records (CODE 6, traffic stops) are counted here and are in no denominator."),
    Table("police_baseline_district", "Police baseline by council district (estimated)",
          "period_type,period,district,call_type_group", "calls_estimate",
          "As police_baseline, for the 21 LAPD divisions (records outside any division or "
          "with none are not spread into districts).",
          "ESTIMATE: LAPD publishes divisions, not council districts, so each division's "
          "count is spread over districts by its area share (division_crosswalk) and summed. "
          "Rounded to whole calls. Shown only where every division it draws on "
          "(divisions_used) is shown in police_baseline, and hidden when it rounds to a "
          "count under the minimum cell.",
          estimate=True),
    Table("pilot_coverage", "Pilot coverage: divisions and hours", "division,span_start",
          "start_hour,end_hour", "Configuration, not calls.",
          "From span_start (until span_end), the pilot serves these LAPD divisions between "
          "start_hour and end_hour, local time."),
    Table("milestones", "Pilot milestones", "date", "label,label_es", "Configuration, not calls.",
          "Dates drawn on trend charts; label_es is the label in Spanish (empty: not given)."),
    Table("call_types", "Call type code table", "code", "call_type_group,label,meaning,pilot",
          "LAPD radio call codes.",
          "Which codes make up each call type group; unknown codes count as 'other'."),
    Table("periods", "Reporting periods", "period_type,period", "first_month,last_month",
          "Months with data.", "Quarters, years, fiscal years (July-June) and pilot to date."),
    Table("protection", "Disclosure control: what each table's protection did",
          "table", "cells,hidden_small,hidden_to_protect,under_minimum,not_published,"
          "rows_allowed,rows_shown,utility_share",
          "The protected tables of this release.",
          "method: alternative tables (complementary suppression, checked against what an "
          "outsider can work out). cells: counts printed; hidden_small: hidden because under "
          "the minimum cell; hidden_to_protect: hidden so that those cannot be worked out; "
          "under_minimum: counts of rows with too few calls for a rate; not_published: counts "
          "of grains published for longer periods only. rows_allowed: rates the rules on "
          "counts alone would allow; rows_shown: how many of those are shown; utility_share "
          "= rows_shown / rows_allowed."),
    Table("quarantine_summary", "Rows set aside by validation", "source,reason", "rows",
          "Input rows of the files this release is built from.",
          "Rows that failed a check, by the first check each failed."),
    Table("runs", "Run log", "run_id",
          "started_at,finished_at,status,mode,rows_in,rows_out,rows_quarantined,data_through,failure",
          "ETL runs.", "Each run of the pipeline. status: ok (published); failed (the "
          "previous public file was kept; named by a failure category only); killed (stopped "
          "before it finished, nothing of it kept); interrupted (stopped after its warehouse "
          "commit: the next run published its data)."),
    Table("officer_involved_shootings",
          "People shot by police in Los Angeles County, 2010-2014 (the history behind the pilot)",
          "period,measure", "people",
          "People shot by on-duty officers of every agency in Los Angeles County (LAPD, the "
          "Sheriff and others), 2010 to 2014, as KPCC coded them from the District Attorney's "
          "letters declining to prosecute, with Medical Examiner data.",
          "measure: people_shot, killed, armed, signs_of_mental_illness (as KPCC coded the "
          "letters). period: year of the incident, or 2010-2014. No agency column: the file "
          "cannot say which shootings were LAPD's, and it ends in 2014. No name, letter or link "
          "is published. Counts from 1 to the minimum cell minus one are hidden, with as many "
          "other years as keep them from being worked out from the five-year total."),
    Table("public_use_file", "Public-use record file: one row per response",
          "fiscal_year,district,responder_type",
          "disposition,arrest,use_of_force,referral_offered,dispatch_to_scene_band",
          "Responses of the civilian teams, co-response and police to public-initiated calls of "
          "the pilot's call types in a council district, in groups (fiscal year, district, "
          "responder type) whose response count is published.",
          "De-identified and generalised: no id, date, time of day or place finer than a "
          "council district. k-anonymous on its grain (every group holds at least k records) "
          "and l-diverse (each outcome column shows at least l values in a group, or is "
          "withheld there); k, l and the share of records kept are in public_use_file_summary. "
          "A value reads 'withheld' where the tables do not show its count for the group, so "
          "no count taken from the file reveals a count the tables hide. Rows are sorted by "
          "their values. dispatch_to_scene_band: minutes from dispatch to arrival in bands, "
          "or the interval's state (not_recorded, invalid_negative, invalid_over_24h). The "
          "events: yes, no or not_recorded. For official figures use the tables."),
    Table("public_use_file_summary", "Public-use record file: k, l and the share kept", "k,l",
          "records_in_scope,records_kept,share_kept,groups_kept",
          "The public-use record file (public_use_file).",
          "k: the fewest records in any group of the file's grain (OUTCOMES_PUF_K is the "
          "least allowed); l: the fewest values an outcome column shows in a group (OUTCOMES_PUF_L). "
          "records_in_scope: citywide responses of the three responder types by fiscal year, "
          "where the tables show them (their own counts); share_kept: the share of those "
          "records the file holds. Records are left out where their district is unknown or outside "
          "the city, or their group's response count is hidden. <column>_withheld_share: the "
          "share of the file's rows where that column reads 'withheld'."),
    Table("releases", "Release archive", "release",
          "run_id,released_at,data_through,code_table_version,method_version,content_sha256,"
          "files_kept",
          "Every successful run's release, this one last.",
          "Each release is kept under its dated name, releases/<release>/ beside the public "
          "file: the Parquet tables, catalog.json and MANIFEST.json (the SHA-256 of every file). "
          "content_sha256: one checksum over every data table's rows (the run log left out), "
          "the same for two releases of the same data. files_kept: false once the release was "
          "pruned (OUTCOMES_RELEASES_KEPT); its row stays."),
    Table("revisions", "Revisions since the release before",
          "release,previous_release,table_name,measure,period_type,period,district,call_type_group",
          "previous_value,value,previous_denominator,denominator,denominator_change",
          "Headline figures (coverage rate, civilian share of calls handled, civilian median "
          "minutes dispatch to scene) that both releases publish, for periods whose months had "
          "all ended when the earlier release's data ended.",
          "revision: 'revised' (the figure as the dashboard writes it, to 0.1 point or minute, "
          "changed: late records, corrections, re-classified call types), 'now_hidden' or "
          "'now_shown'. A month the earlier release did not have is new data, and a quarter, year "
          "or pilot to date still running then grows with each month: neither is a revision. "
          "denominator_change: this release's denominator minus the earlier one's; one from 1 "
          "to the minimum cell minus one is marked hidden."),
    Table("catalog", "This catalog", "table_name",
          "title,grain,measures,universe,description,estimate,boundary_plan",
          "The published tables.",
          "One row per published table. estimate: its figures are estimates (see description). "
          "boundary_plan: the council district plan and LAPD division boundaries its "
          "geography follows; empty for citywide tables."),
)

BY_NAME = {t.name: t for t in TABLES}


def rows(council_plan: str = "2021") -> list[dict[str, str]]:
    """The catalog table; `council_plan` names the redistricting plan of the boundary file
    the run assigned districts with (recorded by 'etl boundaries', or read off the file)."""
    return [{"table_name": t.name, "title": t.title, "grain": t.grain, "measures": t.measures,
             "universe": t.universe, "description": t.description,
             "estimate": "true" if t.estimate else "false",
             "boundary_plan": t.boundary_plan(council_plan)} for t in TABLES]
