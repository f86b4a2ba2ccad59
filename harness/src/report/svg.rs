//! An SVG chart of send-latency percentiles and throughput per second over the run.

use std::fmt::Write;

use super::{Report, TimelinePoint};

const WIDTH: f64 = 960.0;
const PANEL_HEIGHT: f64 = 220.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const GAP: f64 = 50.0;

/// A plot area and the scales of its axes.
struct Panel {
    top: f64,
    x_max: f64,
    y_max: f64,
}

impl Panel {
    fn x(&self, seconds: f64) -> f64 {
        LEFT + (WIDTH - LEFT - RIGHT) * (seconds / self.x_max)
    }

    fn y(&self, value: f64) -> f64 {
        self.top + PANEL_HEIGHT * (1.0 - (value / self.y_max).min(1.0))
    }
}

/// Renders two panels over the same time axis: latency p50 and p99 in ms on top,
/// acknowledged messages per second below, with each scenario's send phase marked.
pub fn render_svg(report: &Report) -> String {
    let points: Vec<TimelinePoint> = report
        .scenario_details
        .iter()
        .flat_map(|s| s.timeline.iter().copied())
        .collect();
    let x_max = points.iter().map(|p| p.t_s).fold(1.0, f64::max);
    let latency_max = nice_ceiling(points.iter().map(|p| p.p99_ms).fold(0.0, f64::max));
    let rate_max = nice_ceiling(points.iter().map(|p| p.msgs_per_s).fold(0.0, f64::max));
    let latency = Panel {
        top: TOP,
        x_max,
        y_max: latency_max,
    };
    let rate = Panel {
        top: TOP + PANEL_HEIGHT + GAP,
        x_max,
        y_max: rate_max,
    };
    let height = rate.top + PANEL_HEIGHT + 45.0;

    let mut svg = String::new();
    // Writing into a String cannot fail, so the results of write! are ignored below.
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="20" font-size="14">qrnm-load: {} connections, {} loop, send latency and throughput per second</text>"#,
        report.connections_requested, report.load_model
    );

    for scenario in &report.scenario_details {
        if scenario.result == "skipped" {
            continue;
        }
        let x0 = latency.x(scenario.started_at_s);
        let x1 = latency.x(scenario.started_at_s + scenario.duration_s);
        for panel in [&latency, &rate] {
            let _ = writeln!(
                svg,
                r##"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="{PANEL_HEIGHT}" fill="#f0f4fa"/>"##,
                panel.top,
                (x1 - x0).max(0.0)
            );
        }
        // A band too narrow for its label (the strip scenario sends no load) gets none.
        if x1 - x0 >= 80.0 {
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" fill="gray">{} ({})</text>"#,
                x0 + 3.0,
                TOP + 14.0,
                escape(&scenario.name),
                escape(&scenario.result)
            );
        }
    }

    draw_axes(&mut svg, &latency, "send latency (ms)");
    draw_axes(&mut svg, &rate, "acknowledged msgs/s");
    draw_line(&mut svg, &latency, &points, |p| p.p99_ms, "#d62728");
    draw_line(&mut svg, &latency, &points, |p| p.p50_ms, "#1f77b4");
    draw_line(&mut svg, &rate, &points, |p| p.msgs_per_s, "#2ca02c");

    let legend_y = TOP - 6.0;
    let _ = writeln!(
        svg,
        r##"<text x="{:.1}" y="{legend_y}" fill="#1f77b4">p50</text><text x="{:.1}" y="{legend_y}" fill="#d62728">p99</text>"##,
        WIDTH - RIGHT - 70.0,
        WIDTH - RIGHT - 35.0
    );
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">seconds since start</text>"#,
        LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        height - 8.0
    );
    svg.push_str("</svg>\n");
    svg
}

fn draw_axes(svg: &mut String, panel: &Panel, title: &str) {
    let bottom = panel.top + PANEL_HEIGHT;
    let _ = writeln!(
        svg,
        r#"<rect x="{LEFT}" y="{}" width="{}" height="{PANEL_HEIGHT}" fill="none" stroke="black"/>"#,
        panel.top,
        WIDTH - LEFT - RIGHT
    );
    for step in 0..=4 {
        let value = panel.y_max * f64::from(step) / 4.0;
        let y = panel.y(value);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#dddddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 5.0,
            y + 4.0,
            format_tick(value)
        );
    }
    let step = nice_ceiling(panel.x_max / 8.0);
    let mut seconds = 0.0;
    while seconds <= panel.x_max {
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            panel.x(seconds),
            bottom + 15.0,
            format_tick(seconds)
        );
        seconds += step;
    }
    let _ = writeln!(
        svg,
        r#"<text x="14" y="{:.1}" transform="rotate(-90 14 {:.1})" text-anchor="middle">{}</text>"#,
        panel.top + PANEL_HEIGHT / 2.0,
        panel.top + PANEL_HEIGHT / 2.0,
        escape(title)
    );
}

fn draw_line(
    svg: &mut String,
    panel: &Panel,
    points: &[TimelinePoint],
    value: fn(&TimelinePoint) -> f64,
    color: &str,
) {
    if points.is_empty() {
        return;
    }
    let coordinates: Vec<String> = points
        .iter()
        .map(|p| format!("{:.1},{:.1}", panel.x(p.t_s), panel.y(value(p))))
        .collect();
    let _ = writeln!(
        svg,
        r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="1.5"/>"#,
        coordinates.join(" ")
    );
}

/// Rounds up to 1, 2 or 5 times a power of ten, so that axis ticks are round numbers.
fn nice_ceiling(value: f64) -> f64 {
    if value <= 0.0 || !value.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|factor| factor * magnitude)
        .find(|&candidate| candidate >= value)
        .unwrap_or(10.0 * magnitude)
}

fn format_tick(value: f64) -> String {
    if value >= 100.0 || value == value.round() {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceiling_steps() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(3.2), 5.0);
        assert_eq!(nice_ceiling(12.0), 20.0);
        assert_eq!(nice_ceiling(2000.0), 2000.0);
        assert_eq!(nice_ceiling(7100.0), 10000.0);
    }

    #[test]
    fn escape_markup() {
        assert_eq!(escape("a<b>&\""), "a&lt;b&gt;&amp;&quot;");
    }
}
