//! A raw walker over DHCP option areas (RFC 2132 section 2), for what `dhcproto` cannot
//! be trusted with: non-UTF-8 host names, option overload into sname/file (52), and finding
//! the options that would trip its debug assertions before it sees them.

use std::borrow::Cow;

pub(crate) const PAD: u8 = 0;
pub(crate) const END: u8 = 255;

/// One option as it sits in the area: code, data and its byte range (code byte to end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawOpt<'a> {
    pub code: u8,
    pub data: &'a [u8],
    pub start: usize,
    pub end: usize,
}

/// Iterates over the options of one area, PAD included (code 0, empty data). Stops at END,
/// at the end of the area, and at an option whose length runs past the area.
pub(crate) struct OptIter<'a> {
    area: &'a [u8],
    pos: usize,
}

impl<'a> OptIter<'a> {
    pub fn new(area: &'a [u8]) -> Self {
        OptIter { area, pos: 0 }
    }
}

impl<'a> Iterator for OptIter<'a> {
    type Item = RawOpt<'a>;

    fn next(&mut self) -> Option<RawOpt<'a>> {
        let start = self.pos;
        let code = *self.area.get(start)?;
        match code {
            END => None,
            PAD => {
                self.pos += 1;
                Some(RawOpt {
                    code,
                    data: &[],
                    start,
                    end: start + 1,
                })
            }
            _ => {
                let len = usize::from(*self.area.get(start + 1)?);
                let end = start + 2 + len;
                let data = self.area.get(start + 2..end)?;
                self.pos = end;
                Some(RawOpt {
                    code,
                    data,
                    start,
                    end,
                })
            }
        }
    }
}

/// The option areas of a message in RFC 3396 order: options, then file and sname when
/// option 52 (overload) says they hold options.
pub(crate) fn areas<'a>(payload: &'a [u8], main: &'a [u8]) -> [Option<&'a [u8]>; 3] {
    let overload = OptIter::new(main)
        .find(|o| o.code == 52)
        .and_then(|o| o.data.first().copied())
        .unwrap_or(0);
    let file = (overload & 1 != 0).then(|| payload.get(108..236)).flatten();
    let sname = (overload & 2 != 0).then(|| payload.get(44..108)).flatten();
    [Some(main), file, sname]
}

/// All instances of `code` across the areas, concatenated (RFC 3396 long options).
/// Borrows when the option occurs once.
pub(crate) fn collect<'a>(areas: &[Option<&'a [u8]>; 3], code: u8) -> Option<Cow<'a, [u8]>> {
    let mut found: Option<Cow<'a, [u8]>> = None;
    for area in areas.iter().flatten() {
        for opt in OptIter::new(area).filter(|o| o.code == code) {
            found = Some(match found {
                None => Cow::Borrowed(opt.data),
                Some(prev) => {
                    let mut v = prev.into_owned();
                    v.extend_from_slice(opt.data);
                    Cow::Owned(v)
                }
            });
        }
    }
    found
}

/// Whether dhcproto 0.15 would hit a debug assertion or a length underflow on this
/// option, given the length it sees (it joins adjacent same-code options first).
fn trips_dhcproto(code: u8, len: usize) -> bool {
    match code {
        80 => len != 0,        // Rapid Commit: debug_assert!(len == 0)
        81 => len < 3,         // Client FQDN: debug_assert!(len >= 3), then len - 3
        94 => len != 3,        // Client Network Interface: debug_assert!(len == 3)
        151 => len < 1,        // BLQ status code: len - 1
        152..=155 => len != 4, // BLQ times: debug_assert!(len == 4)
        _ => false,
    }
}

/// Byte ranges (within `area`) of options dhcproto must not see, grouped the way it
/// groups them: a run of adjacent options with the same code, PAD or END ending a run.
pub(crate) fn dhcproto_traps(area: &[u8]) -> Vec<(usize, usize)> {
    let mut traps = Vec::new();
    // (code, start, end, joined length) of the current run
    let mut run: Option<(u8, usize, usize, usize)> = None;
    for opt in OptIter::new(area) {
        match run {
            Some((code, start, _, len)) if code == opt.code && opt.code != PAD => {
                run = Some((code, start, opt.end, len + opt.data.len()));
            }
            _ => {
                if let Some((code, start, end, len)) = run.take()
                    && trips_dhcproto(code, len)
                {
                    traps.push((start, end));
                }
                if opt.code != PAD {
                    run = Some((opt.code, opt.start, opt.end, opt.data.len()));
                }
            }
        }
    }
    if let Some((code, start, end, len)) = run
        && trips_dhcproto(code, len)
    {
        traps.push((start, end));
    }
    traps
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn walks_pad_and_stops_at_end() {
        let area = [0, 53, 1, 3, 0, 12, 2, b'h', b'i', 255, 12, 1, b'x'];
        let codes: Vec<u8> = OptIter::new(&area).map(|o| o.code).collect();
        assert_eq!(codes, vec![0, 53, 0, 12]);
    }

    #[test]
    fn stops_at_an_option_running_past_the_area() {
        let area = [53, 1, 1, 12, 9, b'a'];
        let codes: Vec<u8> = OptIter::new(&area).map(|o| o.code).collect();
        assert_eq!(codes, vec![53]);
    }

    #[test]
    fn collects_split_options_across_areas() {
        let main = [12, 2, b'a', b'b', 60, 1, b'x', 12, 1, b'c'];
        let file = [12, 1, b'd', 255];
        let areas = [Some(&main[..]), Some(&file[..]), None];
        assert_eq!(collect(&areas, 12).unwrap().as_ref(), b"abcd");
        assert_eq!(collect(&areas, 60).unwrap().as_ref(), b"x");
        assert!(collect(&areas, 61).is_none());
    }

    #[test]
    fn finds_traps_as_dhcproto_groups_them() {
        // FQDN of length 2: trap. Two adjacent FQDN parts of 1 + 2 = 3 bytes: fine.
        let area = [81, 2, 0, 0, 0, 81, 1, 0, 81, 2, 0, 0, 80, 0, 80, 1, 7, 255];
        // the rapid-commit pair joins to length 1: trap
        assert_eq!(dhcproto_traps(&area), vec![(0, 4), (12, 17)]);
    }
}
