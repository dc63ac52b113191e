import Foundation
import RNNKernels
import SVGPlot

/// The page being written, with its stylesheet.
struct HTMLPage {
    var text = ""

    static func += (page: inout HTMLPage, s: String) { page.text += s }

    mutating func head(title: String) {
        text +=
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        text += "<title>\(esc(title))</title>\n<style>\n\(Self.css)</style>\n</head>\n<body>\n"
    }

    static let css = """
        :root { --fg: #1b1b1b; --muted: #5f5f5f; --line: #d9d9d9; --ok: #00704a; --bad: #b3261e; --bg2: #f6f7f9; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: #fff; }
        header, main { max-width: 1180px; margin: 0 auto; padding: 0 16px; }
        header { padding-top: 12px; }
        h1 { font-size: 1.6em; margin: 0.3em 0 0.1em; }
        h2 { font-size: 1.3em; border-bottom: 2px solid var(--line); padding-bottom: 4px; margin-top: 1.4em; }
        h3 { font-size: 1.05em; margin: 1.1em 0 0.4em; }
        h4 { font-size: 0.95em; margin: 1em 0 0.3em; color: #333; }
        .line { font-size: 1.15em; font-weight: 600; margin: 0; }
        .line.ok { color: var(--ok); } .line.bad { color: var(--bad); }
        .muted { color: var(--muted); font-weight: normal; }
        .small { font-size: 0.85em; }
        .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(320px, 100%), 1fr)); gap: 8px 24px; }
        .grid > div { min-width: 0; overflow-x: auto; }
        table { border-collapse: collapse; margin: 4px 0; max-width: 100%; }
        td a { overflow-wrap: anywhere; }
        th, td { border: 1px solid var(--line); padding: 3px 7px; text-align: left; vertical-align: top; }
        thead th { background: var(--bg2); }
        td.n { text-align: right; font-variant-numeric: tabular-nums; }
        tr.bad td { background: #fdecea; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 4px 0; }
        dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
        code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.92em; }
        .badge { display: inline-block; min-width: 5.6em; text-align: center; font: 600 0.78em/1.6 ui-monospace, "DejaVu Sans Mono", monospace; border-radius: 4px; padding: 0 6px; color: #fff; background: #555; }
        .b-pass, .b-xfail { background: var(--ok); }
        .b-fail, .b-xpass, .b-unresolved, .b-timeout { background: var(--bad); }
        .b-new, .b-stale { background: #8a4b00; }
        .b-unsupported { background: #666; }
        details.card { border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; background: #fff; }
        details.card[open] { box-shadow: 0 1px 3px rgba(0,0,0,0.08); }
        details.card > summary { cursor: pointer; padding: 7px 10px; list-style-position: inside; overflow-wrap: anywhere; }
        details.card > summary:focus-visible, a:focus-visible { outline: 3px solid #0072B2; outline-offset: 2px; }
        details.s-fail, details.s-unresolved, details.s-timeout, details.s-xpass { border-left: 5px solid var(--bad); }
        details.s-new, details.s-stale { border-left: 5px solid #8a4b00; }
        .id { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-weight: 600; }
        .title { color: #333; }
        .body { padding: 2px 12px 12px; overflow-x: auto; }
        .tag { background: var(--bg2); border: 1px solid var(--line); border-radius: 10px; padding: 0 7px; font-size: 0.85em; }
        pre.detail { background: #fdf3f2; border: 1px solid #f1c4c0; padding: 8px; overflow-x: auto; white-space: pre-wrap; font-size: 0.85em; }
        table.tensor td { font: 0.82em ui-monospace, "DejaVu Sans Mono", monospace; padding: 1px 5px; text-align: right; }
        table.outs td, table.outs th { font-size: 0.92em; }
        .yes { color: var(--ok); font-weight: 600; } .no { color: var(--bad); font-weight: 600; }
        .val { margin: 6px 0; } .vn { display: block; font-size: 0.9em; color: #333; }
        .plots { display: flex; flex-wrap: wrap; gap: 12px; }
        figure { margin: 6px 0; max-width: 100%; }
        figcaption { font-size: 0.88em; color: #333; max-width: 560px; }
        svg.plot { max-width: 100%; height: auto; display: block; font: 11px system-ui, "DejaVu Sans", sans-serif; }
        svg.plot .pt { font-size: 13px; font-weight: 600; }
        svg.plot .al { font-size: 12px; fill: #333; }
        svg.plot .ax text { fill: #444; }
        svg.plot .ax line { stroke: #888; }
        svg.plot .grid { stroke: #e6e6e6; }
        svg.plot .box { stroke: #999; }
        svg.plot .mk { fill: #D55E00; font-size: 11px; }
        ul.bad-list { columns: 2 320px; padding-left: 1.2em; }
        details.counts > summary { cursor: pointer; } details.counts > summary h3 { display: inline; }
        @media (max-width: 600px) { body { font-size: 14px; } th, td { padding: 2px 4px; } .badge { min-width: 0; } }

        """
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
