//! PNG pictures: configurations, tiles (weight filters, samples) and charts.

use ebm_core::{Error, Result};
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

static FONT: Once = Once::new();

fn register_font() {
    FONT.call_once(|| {
        // DejaVu Sans, embedded so that no system font library is needed.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            include_bytes!("../assets/DejaVuSans.ttf"),
        );
    });
}

fn draw_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io { path: path.display().to_string(), message: format!("drawing failed: {e}") }
}

type Root<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// Draws a `w × h` picture in memory (`draw`), encodes it as a PNG and saves
/// it through the workspace's atomic writer ([`ebm_data::write_atomic`]):
/// a failed write (a full disk) leaves any previous file intact, and the
/// target must be a regular file or absent.
fn render(
    path: &Path,
    (w, h): (u32, u32),
    draw: impl FnOnce(&Root<'_>) -> Result<()>,
) -> Result<()> {
    let (w, h) = (w.max(1), h.max(1));
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw(&root)?;
        root.present().map_err(|e| draw_error(path, e))?;
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut writer| writer.write_image_data(&rgb))
        .map_err(|e| draw_error(path, e))?;
    ebm_data::write_atomic(path, &bytes)
}

/// Grayscale level of `v` scaled from [lo, hi] to black..white.
fn gray(v: f64, lo: f64, hi: f64) -> RGBColor {
    let t = if hi > lo { ((v - lo) / (hi - lo)).clamp(0.0, 1.0) } else { 0.5 };
    let g = (255.0 * t).round() as u8;
    RGBColor(g, g, g)
}

/// The colours of unit values: binary units dark (low) and white (high);
/// categorical values 0, 1, 2, … from a qualitative palette (cycled).
const PALETTE: [RGBColor; 10] = [
    RGBColor(20, 20, 60),
    RGBColor(255, 255, 255),
    RGBColor(230, 97, 1),
    RGBColor(94, 60, 153),
    RGBColor(253, 184, 99),
    RGBColor(27, 158, 119),
    RGBColor(231, 41, 138),
    RGBColor(102, 166, 30),
    RGBColor(166, 118, 29),
    RGBColor(117, 112, 179),
];

/// A configuration of `rows × cols` units, each drawn in the colour of its
/// palette index (`colours`: 0/1 for binary units, low = dark, high =
/// white; the value for categorical ones), `scale` pixels per unit.
pub fn configuration(
    path: &Path,
    colours: &[usize],
    rows: usize,
    cols: usize,
    scale: u32,
) -> Result<()> {
    let (w, h) = (cols as u32 * scale, rows as u32 * scale);
    render(path, (w.max(1), h.max(1)), |root| {
        for r in 0..rows {
            for c in 0..cols {
                let k = colours.get(r * cols + c).copied().unwrap_or(0);
                let color = PALETTE[k % PALETTE.len()];
                let (x0, y0) = ((c as u32 * scale) as i32, (r as u32 * scale) as i32);
                root.draw(&Rectangle::new(
                    [(x0, y0), (x0 + scale as i32, y0 + scale as i32)],
                    color.filled(),
                ))
                .map_err(|e| draw_error(path, e))?;
            }
        }
        Ok(())
    })
}

/// A configuration of `rows × cols` angles (radians), each drawn with the
/// hue of its angle on the colour wheel (full saturation and value), so
/// vortices show as points where every hue meets.
pub fn angles(path: &Path, theta: &[f64], rows: usize, cols: usize, scale: u32) -> Result<()> {
    let (w, h) = (cols as u32 * scale, rows as u32 * scale);
    render(path, (w.max(1), h.max(1)), |root| {
        for r in 0..rows {
            for c in 0..cols {
                let t = theta.get(r * cols + c).copied().unwrap_or(0.0);
                let hue = t.rem_euclid(std::f64::consts::TAU) / std::f64::consts::TAU * 6.0;
                let x = 1.0 - (hue % 2.0 - 1.0).abs();
                let (rr, gg, bb) = match hue as u32 {
                    0 => (1.0, x, 0.0),
                    1 => (x, 1.0, 0.0),
                    2 => (0.0, 1.0, x),
                    3 => (0.0, x, 1.0),
                    4 => (x, 0.0, 1.0),
                    _ => (1.0, 0.0, x),
                };
                let byte = |v: f64| (255.0 * v).round() as u8;
                let color = RGBColor(byte(rr), byte(gg), byte(bb));
                let (x0, y0) = ((c as u32 * scale) as i32, (r as u32 * scale) as i32);
                root.draw(&Rectangle::new(
                    [(x0, y0), (x0 + scale as i32, y0 + scale as i32)],
                    color.filled(),
                ))
                .map_err(|e| draw_error(path, e))?;
            }
        }
        Ok(())
    })
}

/// Tiles (each `tile_rows × tile_cols` values, e.g. one hidden unit's weights
/// or one sample) in a grid of `grid_cols` columns; each tile scaled to its
/// own min..max (or to 0..1 when `unit_range`).
pub fn tiles(
    path: &Path,
    tiles: &[Vec<f64>],
    tile_rows: usize,
    tile_cols: usize,
    grid_cols: usize,
    unit_range: bool,
) -> Result<()> {
    let scale = (96 / tile_rows.max(tile_cols)).clamp(2, 12) as u32;
    let grid_cols = grid_cols.max(1);
    let grid_rows = tiles.len().div_ceil(grid_cols).max(1);
    let (tw, th) = (tile_cols as u32 * scale + 2, tile_rows as u32 * scale + 2);
    render(path, (grid_cols as u32 * tw, grid_rows as u32 * th), |root| {
        root.fill(&RGBColor(128, 0, 0)).map_err(|e| draw_error(path, e))?;
        for (k, tile) in tiles.iter().enumerate() {
            let (lo, hi) = if unit_range {
                (0.0, 1.0)
            } else {
                tile.iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)))
            };
            let (gx, gy) = ((k % grid_cols) as u32 * tw + 1, (k / grid_cols) as u32 * th + 1);
            for r in 0..tile_rows {
                for c in 0..tile_cols {
                    let v = tile.get(r * tile_cols + c).copied().unwrap_or(lo);
                    let (x0, y0) = ((gx + c as u32 * scale) as i32, (gy + r as u32 * scale) as i32);
                    root.draw(&Rectangle::new(
                        [(x0, y0), (x0 + scale as i32, y0 + scale as i32)],
                        gray(v, lo, hi).filled(),
                    ))
                    .map_err(|e| draw_error(path, e))?;
                }
            }
        }
        Ok(())
    })
}

/// One series of a chart.
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Points (x, y).
    pub points: Vec<(f64, f64)>,
    /// Draw as a line (else as dots with error bars of `errors`).
    pub line: bool,
    /// Error bars (same length as points) for dot series.
    pub errors: Vec<f64>,
}

/// A line chart with axis labels and a legend.
pub fn chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<()> {
    register_font();
    let pts = series
        .iter()
        .flat_map(|s| s.points.iter().zip(s.errors.iter().chain(std::iter::repeat(&0.0))));
    let (mut x0, mut x1, mut y0, mut y1) =
        (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for (&(x, y), e) in pts {
        if x.is_finite() && y.is_finite() {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y - e);
            y1 = y1.max(y + e);
        }
    }
    // empty or degenerate ranges (also NaN-free by construction above)
    if x0.partial_cmp(&x1) != Some(std::cmp::Ordering::Less) {
        x0 = if x0.is_finite() { x0 } else { 0.0 };
        x1 = x0 + 1.0;
    }
    if y0.partial_cmp(&y1) != Some(std::cmp::Ordering::Less) {
        y0 = if y0.is_finite() { y0 } else { 0.0 };
        y1 = y0 + 1.0;
    }
    let pad = 0.05 * (y1 - y0);
    let xpad = 0.03 * (x1 - x0);
    // enough decimals to tell ticks a tenth of the range apart (plotters'
    // default rounds 1.0065 to "1.006")
    let decimals = |range: f64| ((-(range / 10.0).log10()).ceil().max(0.0) as usize).min(10);
    let (dx, dy) = (decimals(x1 - x0), decimals(y1 - y0));
    let fx = |v: &f64| format!("{v:.dx$}");
    let fy = |v: &f64| format!("{v:.dy$}");
    render(path, (800, 520), |root| {
        root.fill(&WHITE).map_err(|e| draw_error(path, e))?;
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d((x0 - xpad)..(x1 + xpad), (y0 - pad)..(y1 + pad))
            .map_err(|e| draw_error(path, e))?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(|e| draw_error(path, e))?;
        let colors = [
            RGBColor(31, 119, 180),
            RGBColor(214, 39, 40),
            RGBColor(44, 160, 44),
            RGBColor(148, 103, 189),
        ];
        for (k, s) in series.iter().enumerate() {
            let color = colors[k % colors.len()];
            if s.line {
                chart
                    .draw_series(LineSeries::new(s.points.iter().copied(), color.stroke_width(2)))
                    .map_err(|e| draw_error(path, e))?
                    .label(s.label.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
            } else {
                let errs = s.errors.clone();
                chart
                    .draw_series(s.points.iter().enumerate().map(|(i, &(x, y))| {
                        let e = errs.get(i).copied().unwrap_or(0.0);
                        ErrorBar::new_vertical(x, y - e, y, y + e, color.filled(), 6)
                    }))
                    .map_err(|e| draw_error(path, e))?;
                chart
                    .draw_series(
                        s.points.iter().map(|&(x, y)| Circle::new((x, y), 4, color.filled())),
                    )
                    .map_err(|e| draw_error(path, e))?
                    .label(s.label.clone())
                    .legend(move |(x, y)| Circle::new((x + 9, y), 4, color.filled()));
            }
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(|e| draw_error(path, e))?;
        Ok(())
    })
}
