// The exchange log's line format: one JSON object per exchange, as judged.
//
//   {"time":"2026-12-05T13:04:05.123Z","client":"10.0.0.7:51234","index":0,
//    "protocol":"http","label":"GET /api/items","request":"GET /api/items?id=7 HTTP/1.1",
//    "verdict":"status_differs","online_status":"200","target_status":"500",
//    "online_bytes":1834,"target_bytes":212,"online_ms":3.214,"target_ms":41.007}
//
// Statuses are null when that side did not answer, times null when unknown.
// Every byte of the request is written as valid JSON (and valid UTF-8):
// control characters and bytes from 0x80 up as \u00XX escapes.
#pragma once

#include <string>

#include "copy/compare/exchange.h"
#include "copy/compare/judge.h"

namespace tc::compare {

// Appends the record's line, ending in '\n', to `out`.
void append_json_line(std::string& out, const ExchangeRecord& r, const Judgement& j);

}  // namespace tc::compare
