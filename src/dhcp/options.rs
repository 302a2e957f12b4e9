//! A raw walker over DHCP option areas (RFC 2132 section 2): finds the options the watcher
//! reads, across the options field and, with option overload (52), file and sname, joining
//! split options per RFC 3396.

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

/// All instances of each of `codes` across the areas, concatenated per code (RFC 3396
/// long options), in one walk. Borrows when an option occurs once.
pub(crate) fn collect<'a, const N: usize>(
    areas: &[Option<&'a [u8]>; 3],
    codes: &[u8; N],
) -> [Option<Cow<'a, [u8]>>; N] {
    let mut found: [Option<Cow<'a, [u8]>>; N] = std::array::from_fn(|_| None);
    for area in areas.iter().flatten() {
        for opt in OptIter::new(area) {
            let Some(i) = codes.iter().position(|c| *c == opt.code) else {
                continue;
            };
            found[i] = Some(match found[i].take() {
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
        let [host, vc, cid] = collect(&areas, &[12, 60, 61]);
        assert_eq!(host.unwrap().as_ref(), b"abcd");
        assert_eq!(vc.unwrap().as_ref(), b"x");
        assert!(cid.is_none());
    }
}
