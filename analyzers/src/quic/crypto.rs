//! QUIC Initial packet protection, removed the way Zeek's QUIC analyzer removes it.
//!
//! Initial packets are encrypted, but with keys anyone can derive from the version's public salt and
//! the client's first Destination Connection ID (RFC 9001 §5.2, RFC 9369 §3.3.1 for v2). That is how a
//! passive monitor reads the ClientHello and ServerHello inside them. This module mirrors Zeek's
//! `decrypt_crypto.cc`: its version list and salts, its checks and their messages, and its shortcut of
//! using the packet number as sent (truncated, never reconstructed), so results match Zeek's even on
//! odd input.

use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use aes::Aes128;
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::Aes128Gcm;
use hkdf::Hkdf;
use sha2::Sha256;

const TAG_LEN: usize = 16;
const SAMPLE_LEN: usize = 16;
/// The sample is taken as if the packet number were 4 bytes long (RFC 9001 §5.4.2).
const MAX_PN_LEN: usize = 4;
/// Zeek refuses larger Initials outright, so we do too (its message, its limit).
const MAX_PAYLOAD_LEN: usize = 10_000;
const VERSION_2: u32 = 0x6b33_43cf;

const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
const SALT_D22: [u8; 20] = [
    0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a, 0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd,
    0x7a, 0x02, 0x64, 0x4a,
];
const SALT_D23_D28: [u8; 20] = [
    0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65,
    0xbe, 0xf9, 0xf5, 0x02,
];
const SALT_D29_D32: [u8; 20] = [
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0,
    0x43, 0x90, 0xa8, 0x99,
];
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
    0xf9, 0xbd, 0x2e, 0xd9,
];

/// Whether netpac can decrypt Initials of this version (Zeek's list: 1, draft 22–34, mvfst
/// faceb001..faceb013, v2 0x6b3343cf).
pub fn decryptable_version(version: u32) -> bool {
    uses_v1_labels(version) || version == VERSION_2
}

/// Drafts and mvfst share v1's labels; only their salts differ.
fn uses_v1_labels(version: u32) -> bool {
    version == 0x0000_0001
        || (0xff00_0016..=0xff00_0022).contains(&version)
        || (0xface_b001..=0xface_b013).contains(&version)
}

/// Zeek's salt table; any other v1-family version (v1 itself, drafts 33–34) gets the v1 salt.
fn initial_salt(version: u32) -> &'static [u8; 20] {
    match version {
        VERSION_2 => &SALT_V2,
        0xff00_0016 | 0xface_b001 => &SALT_D22,
        0xff00_0017..=0xff00_001c | 0xface_b002..=0xface_b013 => &SALT_D23_D28,
        0xff00_001d..=0xff00_0020 => &SALT_D29_D32,
        _ => &SALT_V1,
    }
}

/// TLS 1.3 HkdfLabel (RFC 8446 §7.1) with an empty context: length, "tls13 " + label, 0.
fn hkdf_label(len: usize, label: &str) -> Vec<u8> {
    let full_len = b"tls13 ".len() + label.len();
    let mut info = Vec::with_capacity(4 + full_len);
    info.extend_from_slice(&(len as u16).to_be_bytes());
    info.push(full_len as u8);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label.as_bytes());
    info.push(0);
    info
}

fn expand_label<const N: usize>(hk: &Hkdf<Sha256>, label: &str) -> [u8; N] {
    let mut out = [0u8; N];
    hk.expand(&hkdf_label(N, label), &mut out)
        .expect("QUIC labels ask for at most 32 bytes, far below HKDF-SHA256's limit");
    out
}

/// The direction's Initial secret: Expand-Label(Extract(salt, dcid), "client in" | "server in").
/// The caller has already checked that the version is decryptable.
fn initial_secret(version: u32, dcid: &[u8], from_client: bool) -> [u8; 32] {
    let (_, initial) = Hkdf::<Sha256>::extract(Some(initial_salt(version)), dcid);
    // v2 keeps the v1 labels for this step (RFC 9369 §3.3.2 changes only key, iv, hp, ku).
    expand_label(
        &initial,
        if from_client {
            "client in"
        } else {
            "server in"
        },
    )
}

struct Keys {
    key: [u8; 16],
    iv: [u8; 12],
    hp: [u8; 16],
}

fn keys_from_secret(version: u32, secret: &[u8; 32]) -> Keys {
    let hk = Hkdf::<Sha256>::from_prk(secret).expect("a 32-byte secret is a valid SHA-256 PRK");
    let (key, iv, hp) = if version == VERSION_2 {
        ("quicv2 key", "quicv2 iv", "quicv2 hp")
    } else {
        ("quic key", "quic iv", "quic hp")
    };
    Keys {
        key: expand_label(&hk, key),
        iv: expand_label(&hk, iv),
        hp: expand_label(&hk, hp),
    }
}

fn derive_keys(version: u32, dcid: &[u8], from_client: bool) -> Option<Keys> {
    if !decryptable_version(version) {
        return None;
    }
    Some(keys_from_secret(
        version,
        &initial_secret(version, dcid, from_client),
    ))
}

/// Header protection mask: AES-128-ECB of the 16-byte sample under the hp key (RFC 9001 §5.4.3).
fn header_mask(hp: &[u8; 16], sample: &[u8; SAMPLE_LEN]) -> [u8; 16] {
    let mut block = GenericArray::clone_from_slice(sample);
    Aes128::new(GenericArray::from_slice(hp)).encrypt_block(&mut block);
    let mut mask = [0u8; 16];
    mask.copy_from_slice(&block);
    mask
}

fn sample_at(packet: &[u8], pn_offset: usize) -> [u8; SAMPLE_LEN] {
    let start = pn_offset + MAX_PN_LEN;
    let mut sample = [0u8; SAMPLE_LEN];
    sample.copy_from_slice(&packet[start..start + SAMPLE_LEN]);
    sample
}

/// AEAD nonce: the iv with the packet number, as a 64-bit big-endian value, XORed into its end.
fn nonce(iv: &[u8; 12], packet_number: u64) -> [u8; 12] {
    let mut nonce = *iv;
    for (n, p) in nonce[4..].iter_mut().zip(packet_number.to_be_bytes()) {
        *n ^= p;
    }
    nonce
}

fn gcm(key: &[u8; 16]) -> Aes128Gcm {
    Aes128Gcm::new(GenericArray::from_slice(key))
}

/// Decrypts one QUIC Initial packet with the keys the version's public salt and the client's first
/// Destination Connection ID give (RFC 9001 §5, RFC 9369 for v2).
/// `packet` starts at the packet's first byte and may run past its end (the rest of the datagram);
/// `pn_offset` is the offset of the (protected) packet number; `payload_length` the packet's Length field
/// (packet number + ciphertext + tag). `from_client` chooses "client in" / "server in".
/// Returns the plaintext frames, or the reason it cannot, worded as Zeek's analyzer words it.
pub fn decrypt_initial(
    version: u32,
    dcid: &[u8],
    packet: &[u8],
    pn_offset: usize,
    payload_length: u64,
    from_client: bool,
) -> Result<Vec<u8>, String> {
    // 20 = a 4-byte packet number plus the 16-byte sample, so the sample is always in the packet.
    if payload_length < 20 {
        return Err(format!("payload too small {payload_length} < 20"));
    }
    // u128 so an absurd Length or offset is reported, not wrapped.
    let needed = pn_offset as u128 + u128::from(payload_length);
    if (packet.len() as u128) < needed {
        return Err(format!("packet too small {} {}", packet.len(), needed));
    }
    let keys = derive_keys(version, dcid, from_client)
        .ok_or_else(|| format!("unable to decrypt QUIC version 0x{version:x}"))?;
    // Lossless: pn_offset + payload_length <= packet.len().
    let payload_length = payload_length as usize;

    let mask = header_mask(&keys.hp, &sample_at(packet, pn_offset));
    let mut first = packet[0];
    if first & 0x80 != 0 {
        first ^= mask[0] & 0x0f;
    } else {
        // Zeek's short-header branch clears the bits rather than unmasking them; Initials never
        // get here, but keeping it makes odd input behave exactly as in Zeek.
        first &= !0x1f;
    }
    let pn_len = usize::from(first & 0x03) + 1;
    let header_len = pn_offset + pn_len;
    let mut header = packet[..header_len].to_vec();
    header[0] = first;
    // Used as sent: Zeek keeps no packet-number state to reconstruct the full value against.
    let mut packet_number: u32 = 0;
    for i in 0..pn_len {
        header[pn_offset + i] ^= mask[1 + i];
        packet_number = (packet_number << 8) | u32::from(header[pn_offset + i]);
    }

    // Zeek's remaining checks. The first check above already rules out all but "too large"; they
    // stay so the slicing below never depends on that reasoning.
    if payload_length < pn_len + TAG_LEN {
        return Err(format!(
            "payload too small {} < {}",
            payload_length,
            pn_len + TAG_LEN
        ));
    }
    if payload_length > MAX_PAYLOAD_LEN {
        return Err(format!("payload_length too large {payload_length}"));
    }
    let ciphertext_len = payload_length
        .checked_sub(pn_len + TAG_LEN)
        .ok_or_else(|| format!("encrypted_payload_size underflow {payload_length}"))?;
    let end = header_len + ciphertext_len + TAG_LEN;
    if packet.len() < end {
        return Err(format!(
            "data too short {} < {}",
            packet.len(),
            header_len + ciphertext_len
        ));
    }

    let nonce = nonce(&keys.iv, u64::from(packet_number));
    let plaintext = gcm(&keys.key)
        .decrypt(
            GenericArray::from_slice(&nonce),
            Payload {
                msg: &packet[header_len..end],
                aad: &header,
            },
        )
        .map_err(|_| "decryption failed".to_string())?;
    // QUIC.spicy treats an empty result as a failure too, with the same message.
    if plaintext.is_empty() {
        return Err("decryption failed".to_string());
    }
    Ok(plaintext)
}

/// The inverse, for tests and fixtures: builds a protected Initial packet. `header` is the unprotected long
/// header up to and including the Length field (which must already count pn_len + plaintext + 16),
/// `pn` / `pn_len` the packet number and its encoded length (1..=4).
///
/// # Panics
/// On misuse, since it only builds fixtures: an undecryptable version, `pn_len` outside 1..=4, `pn` not
/// fitting in `pn_len` bytes, a first byte that is not a long header with `pn_len - 1` in its low bits,
/// or `pn_len + plaintext.len() < 4` (no room for the header-protection sample).
pub fn encrypt_initial(
    version: u32,
    dcid: &[u8],
    header: &[u8],
    pn: u32,
    pn_len: usize,
    plaintext: &[u8],
    from_client: bool,
) -> Vec<u8> {
    let keys = derive_keys(version, dcid, from_client)
        .unwrap_or_else(|| panic!("cannot encrypt QUIC version 0x{version:x}"));
    assert!(
        (1..=MAX_PN_LEN).contains(&pn_len),
        "pn_len {pn_len} not in 1..=4"
    );
    // Zeek's decryptor uses the number as sent, so one that does not fit could never round-trip.
    assert!(
        pn_len == MAX_PN_LEN || pn >> (8 * pn_len) == 0,
        "packet number {pn} does not fit in {pn_len} bytes"
    );
    assert!(
        header
            .first()
            .is_some_and(|&b| b & 0x80 != 0 && usize::from(b & 0x03) + 1 == pn_len),
        "header must start with a long-header byte whose low bits are pn_len - 1"
    );
    assert!(
        pn_len + plaintext.len() >= MAX_PN_LEN,
        "pn_len + plaintext must be at least 4 bytes to leave room for the sample"
    );

    let pn_offset = header.len();
    let mut packet = Vec::with_capacity(pn_offset + pn_len + plaintext.len() + TAG_LEN);
    packet.extend_from_slice(header);
    packet.extend_from_slice(&pn.to_be_bytes()[MAX_PN_LEN - pn_len..]);
    let nonce = nonce(&keys.iv, u64::from(pn));
    let sealed = gcm(&keys.key)
        .encrypt(
            GenericArray::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &packet,
            },
        )
        .expect("AES-GCM seals any Initial-sized input");
    packet.extend_from_slice(&sealed);

    let mask = header_mask(&keys.hp, &sample_at(&packet, pn_offset));
    packet[0] ^= mask[0] & 0x0f;
    for i in 0..pn_len {
        packet[pn_offset + i] ^= mask[1 + i];
    }
    packet
}

/// `decrypt_initial` as the grammar calls it (`grammars/quic.evt`): the values as the
/// grammar has them; an empty plaintext is a failure, as QUIC.spicy treats it.
pub fn decrypt_initial_packet(
    version: u64,
    dcid: &[u8],
    packet: &[u8],
    pn_offset: u64,
    length: u64,
    from_client: bool,
) -> Result<Vec<u8>, String> {
    let version = u32::try_from(version).map_err(|_| format!("unable to decrypt QUIC version 0x{version:x}"))?;
    let pn_offset = usize::try_from(pn_offset).map_err(|_| "packet too small".to_string())?;
    decrypt_initial(version, dcid, packet, pn_offset, length, from_client)
}

/// The TLS 1.2 handshake record Zeek wraps a QUIC handshake message in before
/// its SSL analyzer gets it (QUIC.spicy's CryptoSinkUnit): type 22, version
/// 0x0303, the message's length with its header, then the message.
pub fn handshake_record(msg_type: u64, length: u64, body: &[u8]) -> Result<Vec<u8>, String> {
    let whole = length + 4;
    let mut out = Vec::with_capacity(9 + body.len());
    out.extend_from_slice(&[0x16, 0x03, 0x03]);
    out.extend_from_slice(&(whole as u16).to_be_bytes());
    out.push(msg_type as u8);
    out.extend_from_slice(&(length as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    Ok(out)
}

#[cfg(test)]
#[path = "crypto_tests.rs"]
mod tests;
