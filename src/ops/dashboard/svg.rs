//! The dashboard's charts, as server-rendered SVG written with maud (so
//! every label is escaped like the rest of the page): stacked columns,
//! a line of shares and horizontal bars. Colours come from CSS classes, so
//! the page's light or dark scheme applies; every mark carries a `<title>`
//! with its number, and every chart has a table of the same numbers under it.

use maud::{html, Markup};

/// The drawing's coordinate space; it scales to the page's width.
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 26.0;

/// One part of a column or bar: its CSS class, its name and its value.
pub(crate) type Part = (&'static str, &'static str, i64);

/// Vertical columns, each a stack of `parts`, labelled under the axis (all
/// labels when few, else the first, middle and last).
pub(crate) fn columns(title: &str, columns: &[(String, Vec<Part>)]) -> Markup {
    let most = columns.iter().map(|(_, parts)| parts.iter().map(|p| p.2).sum::<i64>()).max().unwrap_or(0).max(1);
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let step = plot_width / columns.len().max(1) as f64;
    let gap = (step * 0.15).min(4.0);
    let scale = plot_height / most as f64;
    let labelled = |index: usize| {
        let n = columns.len();
        n <= 16 || index == 0 || index == n - 1 || index == n / 2
    };
    html! {
        svg.chart viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(title) {
            title { (title) }
            (grid(most as f64, |v| format!("{v:.0}")))
            @for (index, (label, parts)) in columns.iter().enumerate() {
                @let x = LEFT + step * index as f64 + gap / 2.0;
                @let width = (step - gap).max(0.5);
                @let mut bottom = TOP + plot_height;
                @for (class, name, value) in parts {
                    @if *value > 0 {
                        @let height = *value as f64 * scale;
                        @let y = { bottom -= height; bottom };
                        rect class=(class) x=(f(x)) y=(f(y)) width=(f(width)) height=(f(height)) {
                            title { (label) " · " (name) ": " (value) }
                        }
                    }
                }
                @if labelled(index) {
                    // The first and last labels keep inside the drawing.
                    @let (at, anchor) = match index {
                        0 if columns.len() > 16 => (x, "start"),
                        last if last + 1 == columns.len() && columns.len() > 16 => (x + width, "end"),
                        _ => (x + width / 2.0, "middle"),
                    };
                    text.axis x=(f(at)) y=(f(HEIGHT - 8.0)) text-anchor=(anchor) { (label) }
                }
            }
        }
    }
}

/// A line of shares (0–1) over `points`; a point without a value breaks it.
pub(crate) fn shares(title: &str, points: &[(String, Option<f64>)]) -> Markup {
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let step = plot_width / points.len().max(1) as f64;
    let at = |index: usize, share: f64| {
        (LEFT + step * (index as f64 + 0.5), TOP + plot_height * (1.0 - share.clamp(0.0, 1.0)))
    };
    // Runs of consecutive points with a value, each one polyline.
    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (index, (_, share)) in points.iter().enumerate() {
        match share {
            Some(share) => runs.last_mut().unwrap().push(at(index, *share)),
            None if runs.last().is_some_and(|run| !run.is_empty()) => runs.push(Vec::new()),
            None => {}
        }
    }
    html! {
        svg.chart viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(title) {
            title { (title) }
            (grid(1.0, |v| format!("{:.0}%", v * 100.0)))
            @for run in runs.iter().filter(|run| run.len() > 1) {
                polyline.line points=(run.iter().map(|(x, y)| format!("{},{}", f(*x), f(*y))).collect::<Vec<_>>().join(" ")) {}
            }
            @for (index, (label, share)) in points.iter().enumerate() {
                @if let Some(share) = share {
                    @let (x, y) = at(index, *share);
                    circle.point cx=(f(x)) cy=(f(y)) r="4" {
                        title { (label) ": " (format!("{:.0}%", share * 100.0)) }
                    }
                }
                text.axis x=(f(LEFT + step * (index as f64 + 0.5))) y=(f(HEIGHT - 8.0)) text-anchor="middle" { (label) }
            }
        }
    }
}

/// Horizontal bars, one per row, its label above it and its total after it.
pub(crate) fn bars(title: &str, rows: &[(String, Vec<Part>)]) -> Markup {
    const ROW: f64 = 36.0;
    let height = ROW * rows.len().max(1) as f64 + 4.0;
    let most = rows.iter().map(|(_, parts)| parts.iter().map(|p| p.2).sum::<i64>()).max().unwrap_or(0).max(1);
    let room = WIDTH - 60.0;
    html! {
        svg.chart viewBox=(format!("0 0 {WIDTH} {}", f(height))) role="img" aria-label=(title) {
            title { (title) }
            @for (index, (label, parts)) in rows.iter().enumerate() {
                @let top = ROW * index as f64;
                text.label x="0" y=(f(top + 13.0)) { (label) }
                @let mut left = 0.0;
                @for (class, name, value) in parts {
                    @if *value > 0 {
                        @let width = *value as f64 / most as f64 * room;
                        @let x = { let x = left; left += width; x };
                        rect class=(class) x=(f(x)) y=(f(top + 18.0)) width=(f(width)) height="13" {
                            title { (label) " · " (name) ": " (value) }
                        }
                    }
                }
                text.axis x=(f(left + 6.0)) y=(f(top + 29.0)) { (parts.iter().map(|p| p.2).sum::<i64>()) }
            }
        }
    }
}

/// Horizontal grid lines at 0, half and `top`, labelled on the left.
fn grid(top: f64, label: impl Fn(f64) -> String) -> Markup {
    let plot_height = HEIGHT - TOP - BOTTOM;
    html! {
        @for share in [0.0, 0.5, 1.0] {
            @let y = TOP + plot_height * (1.0 - share);
            line.grid x1=(f(LEFT)) x2=(f(WIDTH - RIGHT)) y1=(f(y)) y2=(f(y)) {}
            text.axis x=(f(LEFT - 6.0)) y=(f(y + 4.0)) text-anchor="end" { (label(top * share)) }
        }
    }
}

/// A coordinate with two decimals at most, so pages stay small.
fn f(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_stack_their_parts_to_scale_and_escape_labels() {
        let chart = columns(
            "per day",
            &[("<b>".into(), vec![("answered", "answered", 3), ("declined", "declined", 1)]), ("d2".into(), vec![])],
        )
        .into_string();
        assert_eq!(chart.matches("<rect").count(), 2, "{chart}");
        assert!(chart.contains("&lt;b&gt;") && !chart.contains("<b>"), "{chart}");
        // The taller part is three times the other.
        let heights: Vec<f64> =
            chart.split("height=\"").skip(1).map(|rest| rest.split('"').next().unwrap().parse().unwrap()).collect();
        assert!((heights[0] / heights[1] - 3.0).abs() < 0.01, "{heights:?}");
    }

    #[test]
    fn a_missing_share_breaks_the_line() {
        let points: Vec<(String, Option<f64>)> =
            vec![("a".into(), Some(0.5)), ("b".into(), Some(1.0)), ("c".into(), None), ("d".into(), Some(0.2))];
        let chart = shares("rate", &points).into_string();
        assert_eq!(chart.matches("<polyline").count(), 1, "{chart}");
        assert_eq!(chart.matches("<circle").count(), 3, "{chart}");
    }
}
