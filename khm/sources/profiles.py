"""Ready mapping profiles for the layouts the synthetic exporter writes
(khm.engines.sources_synth; see docs/source-layouts.md). Officers copy and adapt them
for their real files; next year's file reuses the saved profile."""

from __future__ import annotations

from typing import Any

PROFILES: dict[str, dict[str, Any]] = {
    "TPMAP (ไฟล์ส่งออก TPMAP)": {
        "kind": "tpmap",
        "fields": {
            "record_id": "record_id", "id_number": "เลขประจำตัวประชาชน", "id_scheme": "thai_national_id",
            "first_name": "ชื่อ", "last_name": "นามสกุล", "birth_date": "วันเกิด", "date_format": "%d/%m/%Y BE",
            "sex": "เพศ", "house_no": "บ้านเลขที่", "address": ["บ้านเลขที่", "หมู่", "ตำบล", "อำเภอ", "จังหวัด"],
            "area_code": "รหัสตำบล",
        },
        "extra": {"title": "คำนำหน้า", "village_no": "หมู่"},
    },
    "KHM (บัญชีจังหวัดกาฬสินธุ์)": {
        "kind": "khm",
        "fields": {
            "record_id": "record_id", "id_number": "cid", "id_scheme": "thai_national_id", "full_name": "full_name",
            "birth_date": "birth_date", "date_format": "%d/%m/%Y BE", "sex": "gender", "house_no": "house_no",
            "address": ["house_no", "moo", "subdistrict", "district"], "area_code": "village_code", "postcode": "postcode",
        },
        "extra": {"title": "prefix", "relation": "relation", "household_key": "household_code", "village_no": "moo"},
    },
    "Bottom 20 % (รายได้ต่ำสุดร้อยละ 20)": {
        "kind": "bottom20",
        "fields": {
            "record_id": "record_id", "id_number": "Citizen ID", "id_scheme": "thai_national_id", "first_name": "Name",
            "last_name": "Surname", "birth_date": "Birth date", "date_format": "%Y-%m-%d", "sex": "Sex",
            "address": ["Address"], "area_code": "Subdistrict code",
        },
        "extra": {"title": "Title"},
    },
    # Dates are "12 มี.ค. 2522" (Thai month, BE year; Thai digits in some rows): the engine
    # reads them without a date_format. The income and BMN indicator columns
    # ("รายได้ต่อปี (บาท)", "ตัวชี้วัดที่ 7" …) are not mapped: they stay in each staged row's
    # raw values for the assessment step.
    "BMN (ข้อมูล จปฐ.)": {
        "kind": "bmn",
        "fields": {
            "record_id": "record_id", "id_number": "เลขประจำตัวประชาชน", "id_scheme": "thai_national_id",
            "first_name": "ชื่อ", "last_name": "นามสกุล", "birth_date": "วันเดือนปีเกิด", "sex": "เพศ",
            "house_no": "บ้านเลขที่", "address": ["บ้านเลขที่", "หมู่ที่", "ตำบล", "อำเภอ", "จังหวัด"],
            "area_code": "รหัสหมู่บ้าน",
        },
        "extra": {"title": "คำนำหน้า", "relation": "ความเกี่ยวพันกับหัวหน้าครัวเรือน", "household_key": "รหัสบ้าน",
                  "village_no": "หมู่ที่"},
    },
}  # fmt: skip


def install_profiles() -> int:
    from khm.engines.linkage.fields import parse_fields
    from khm.sources.models import MappingProfile

    for name, p in PROFILES.items():
        parse_fields(p["fields"], origin=name)  # refuse to ship a profile the engine rejects
        MappingProfile.objects.update_or_create(
            name=name, defaults={"kind": p["kind"], "fields": p["fields"], "extra": p["extra"]}
        )
    return len(PROFILES)
