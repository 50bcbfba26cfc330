//! RFC 9001 / RFC 9369 test vectors, round trips and hostile input for `crypto.rs`.
use super::*;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

const DCID: &str = "8394c8f03e515708";

/// RFC 9001 A.2 / RFC 9369 A.2: the client's CRYPTO frame (a ClientHello), padded to 1162 bytes.
const CLIENT_FRAMES: &str = concat!(
    "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868",
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578",
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005",
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba",
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400",
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100",
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000",
    "75300901100f088394c8f03e51570806048000ffff",
);

fn client_payload() -> Vec<u8> {
    let mut p = unhex(CLIENT_FRAMES);
    assert_eq!(p.len(), 245);
    p.resize(1162, 0);
    p
}

/// RFC 9001 A.3 / RFC 9369 A.3: the server's ACK and CRYPTO (ServerHello) frames.
const SERVER_PAYLOAD: &str = concat!(
    "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739",
    "88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94",
    "0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00",
    "020304",
);

/// RFC 9001 A.2: the protected client Initial (1200 bytes).
const V1_CLIENT_PACKET: &str = concat!(
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11",
    "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399",
    "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c",
    "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212",
    "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5",
    "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208",
    "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec",
    "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3",
    "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db",
    "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c",
    "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8",
    "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556",
    "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74",
    "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a",
    "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00",
    "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632",
    "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964",
    "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd",
    "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff",
    "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198",
    "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd",
    "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73",
    "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f",
    "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e",
    "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade",
    "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047",
    "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2",
    "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4",
    "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0",
    "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e",
    "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0",
    "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400",
    "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab",
    "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9",
    "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4",
    "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064",
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241",
    "e221af44860018ab0856972e194cd934",
);

/// RFC 9001 A.3: the protected server Initial (135 bytes).
const V1_SERVER_PACKET: &str = concat!(
    "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a",
    "5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3",
    "dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84",
    "022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4",
    "2158407dd074ee",
);

/// RFC 9369 A.2: the protected v2 client Initial (1200 bytes).
const V2_CLIENT_PACKET: &str = concat!(
    "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485",
    "dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04",
    "9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d",
    "250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a",
    "12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500",
    "cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68",
    "18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33",
    "12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3",
    "d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd",
    "6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520",
    "bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045",
    "636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f",
    "ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12",
    "16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5",
    "4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4",
    "fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b",
    "8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7",
    "14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9",
    "9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91",
    "abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd",
    "80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db",
    "848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18",
    "d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15",
    "c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc",
    "7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61",
    "f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710",
    "10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b",
    "3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e",
    "06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce",
    "8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1",
    "34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1",
    "e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd",
    "5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3",
    "8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89",
    "d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53",
    "6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19",
    "9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b",
    "a18b2faa745b6fe189cf772a9f84cbfc",
);

/// RFC 9369 A.3: the protected v2 server Initial (135 bytes).
const V2_SERVER_PACKET: &str = concat!(
    "dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698",
    "baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17",
    "f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2",
    "c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8",
    "4bed8521e2e140",
);

// Client: header up to Length "c3..449e", pn 2 in 4 bytes; server: "c1..4075", pn 1 in 2 bytes.
// Both put the packet number at offset 18.
const V1_CLIENT_HEADER: &str = "c300000001088394c8f03e5157080000449e";
const V1_SERVER_HEADER: &str = "c1000000010008f067a5502a4262b5004075";
const V2_CLIENT_HEADER: &str = "d36b3343cf088394c8f03e5157080000449e";
const V2_SERVER_HEADER: &str = "d16b3343cf0008f067a5502a4262b5004075";

struct KeyVectors {
    client_secret: &'static str,
    server_secret: &'static str,
    client: [&'static str; 3],
    server: [&'static str; 3],
}

fn check_keys(version: u32, v: &KeyVectors) {
    let dcid = unhex(DCID);
    for (from_client, secret, kih) in [
        (true, v.client_secret, v.client),
        (false, v.server_secret, v.server),
    ] {
        let s = initial_secret(version, &dcid, from_client);
        assert_eq!(
            s.to_vec(),
            unhex(secret),
            "secret, from_client={from_client}"
        );
        let k = derive_keys(version, &dcid, from_client).expect("decryptable");
        assert_eq!(
            k.key.to_vec(),
            unhex(kih[0]),
            "key, from_client={from_client}"
        );
        assert_eq!(
            k.iv.to_vec(),
            unhex(kih[1]),
            "iv, from_client={from_client}"
        );
        assert_eq!(
            k.hp.to_vec(),
            unhex(kih[2]),
            "hp, from_client={from_client}"
        );
    }
}

#[test]
fn rfc9001_a1_keys() {
    check_keys(
        1,
        &KeyVectors {
            client_secret: "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
            server_secret: "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b",
            client: [
                "1f369613dd76d5467730efcbe3b1a22d",
                "fa044b2f42a3fd3b46fb255c",
                "9f50449e04a0e810283a1e9933adedd2",
            ],
            server: [
                "cf3a5331653c364c88f0f379b6067e37",
                "0ac1493ca1905853b0bba03e",
                "c206b8d9b9f0f37644430b490eeaa314",
            ],
        },
    );
}

#[test]
fn rfc9369_a1_keys() {
    check_keys(
        VERSION_2,
        &KeyVectors {
            client_secret: "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
            server_secret: "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1",
            client: [
                "8b1a0bc121284290a29e0971b5cd045d",
                "91f73e2351d8fa91660e909f",
                "45b95e15235d6f45a6b19cbcb0294ba9",
            ],
            server: [
                "82db637861d55e1d011f19ea71d5d2a7",
                "dd13c276499c0249d3310652",
                "edf6d05c83121201b436e16877593c3a",
            ],
        },
    );
}

#[test]
fn hkdf_label_matches_zeek_info_bytes() {
    // The info strings decrypt_crypto.cc hard-codes.
    assert_eq!(
        hkdf_label(16, "quic key"),
        [b"\x00\x10\x0etls13 quic key".as_slice(), &[0]].concat()
    );
    assert_eq!(
        hkdf_label(12, "quic iv"),
        [b"\x00\x0c\x0dtls13 quic iv".as_slice(), &[0]].concat()
    );
    assert_eq!(
        hkdf_label(32, "client in"),
        [b"\x00\x20\x0ftls13 client in".as_slice(), &[0]].concat()
    );
    assert_eq!(
        hkdf_label(16, "quicv2 hp"),
        [b"\x00\x10\x0ftls13 quicv2 hp".as_slice(), &[0]].concat()
    );
}

#[test]
fn rfc_header_protection_masks() {
    // (version, from_client, sample, first five mask bytes) from RFC 9001 A.2/A.3 and RFC 9369 A.2.
    for (version, from_client, sample, mask) in [
        (1, true, "d1b1c98dd7689fb8ec11d242b123dc9b", "437b9aec36"),
        (1, false, "2cd0991cd25b0aac406a5816b6394100", "2ec0d8356a"),
        (
            VERSION_2,
            true,
            "ffe67b6abcdb4298b485dd04de806071",
            "94a0c95e80",
        ),
    ] {
        let keys = derive_keys(version, &unhex(DCID), from_client).unwrap();
        let mut s = [0u8; 16];
        s.copy_from_slice(&unhex(sample));
        assert_eq!(header_mask(&keys.hp, &s)[..5], unhex(mask)[..]);
    }
}

#[test]
fn nonce_xors_packet_number_into_the_tail() {
    let iv = [0u8; 12];
    assert_eq!(
        nonce(&iv, 0x0102_0304_0506_0708)[4..],
        [1, 2, 3, 4, 5, 6, 7, 8]
    );
    let iv: [u8; 12] = unhex("fa044b2f42a3fd3b46fb255c").try_into().unwrap();
    assert_eq!(nonce(&iv, 2).to_vec(), unhex("fa044b2f42a3fd3b46fb255e"));
}

/// Decrypts the RFC's protected packet (also with trailing datagram bytes) and rebuilds it exactly.
fn check_rfc_packet(
    version: u32,
    from_client: bool,
    packet_hex: &str,
    header_hex: &str,
    pn: u32,
    pn_len: usize,
    plaintext: &[u8],
) {
    let dcid = unhex(DCID);
    let packet = unhex(packet_hex);
    let header = unhex(header_hex);
    let pn_offset = header.len();
    let length = (packet.len() - pn_offset) as u64;
    assert_eq!(
        decrypt_initial(version, &dcid, &packet, pn_offset, length, from_client).as_deref(),
        Ok(plaintext)
    );
    let mut datagram = packet.clone();
    datagram.extend_from_slice(&[0u8; 37]);
    assert_eq!(
        decrypt_initial(version, &dcid, &datagram, pn_offset, length, from_client).as_deref(),
        Ok(plaintext)
    );
    let built = encrypt_initial(version, &dcid, &header, pn, pn_len, plaintext, from_client);
    assert_eq!(built, packet);
}

#[test]
fn rfc9001_a2_client_initial() {
    let packet = unhex(V1_CLIENT_PACKET);
    assert_eq!(packet.len(), 1200);
    // Length field 0x049e = 1182 = 1200 - 18.
    let got = decrypt_initial(1, &unhex(DCID), &packet, 18, 0x049e, true).unwrap();
    assert!(got.starts_with(&unhex("060040f1010000ed0303ebf8fa56f129")));
    check_rfc_packet(
        1,
        true,
        V1_CLIENT_PACKET,
        V1_CLIENT_HEADER,
        2,
        4,
        &client_payload(),
    );
}

#[test]
fn rfc9001_a3_server_initial() {
    check_rfc_packet(
        1,
        false,
        V1_SERVER_PACKET,
        V1_SERVER_HEADER,
        1,
        2,
        &unhex(SERVER_PAYLOAD),
    );
}

#[test]
fn rfc9369_a2_client_initial() {
    check_rfc_packet(
        VERSION_2,
        true,
        V2_CLIENT_PACKET,
        V2_CLIENT_HEADER,
        2,
        4,
        &client_payload(),
    );
}

#[test]
fn rfc9369_a3_server_initial() {
    let payload = unhex(SERVER_PAYLOAD);
    check_rfc_packet(
        VERSION_2,
        false,
        V2_SERVER_PACKET,
        V2_SERVER_HEADER,
        1,
        2,
        &payload,
    );
}

#[test]
fn rfc_packets_need_the_right_direction_version_and_dcid() {
    let packet = unhex(V1_CLIENT_PACKET);
    let dcid = unhex(DCID);
    let failed = Err("decryption failed".to_string());
    assert_eq!(decrypt_initial(1, &dcid, &packet, 18, 1182, false), failed);
    assert_eq!(
        decrypt_initial(VERSION_2, &dcid, &packet, 18, 1182, true),
        failed
    );
    assert_eq!(
        decrypt_initial(0xff00_001d, &dcid, &packet, 18, 1182, true),
        failed
    );
    assert_eq!(
        decrypt_initial(1, &dcid[1..], &packet, 18, 1182, true),
        failed
    );
    // Drafts 33 and 34 share v1's salt and labels, so the v1 packet opens under them too.
    assert!(decrypt_initial(0xff00_0021, &dcid, &packet, 18, 1182, true).is_ok());
    assert!(decrypt_initial(0xff00_0022, &dcid, &packet, 18, 1182, true).is_ok());
}

fn varint2(v: usize) -> [u8; 2] {
    assert!(v < 0x4000);
    (0x4000 | v as u16).to_be_bytes()
}

/// A long-header Initial header up to its Length field, Length counting pn + plaintext + tag.
fn initial_header(
    version: u32,
    dcid: &[u8],
    scid: &[u8],
    token: &[u8],
    pn_len: usize,
    plaintext_len: usize,
) -> Vec<u8> {
    // Initial is type 0 in v1 and its drafts, type 1 in v2.
    let type_bits = if version == VERSION_2 { 0x10 } else { 0x00 };
    let mut h = vec![0xc0 | type_bits | (pn_len as u8 - 1)];
    h.extend_from_slice(&version.to_be_bytes());
    h.push(dcid.len() as u8);
    h.extend_from_slice(dcid);
    h.push(scid.len() as u8);
    h.extend_from_slice(scid);
    h.push(token.len() as u8);
    h.extend_from_slice(token);
    h.extend_from_slice(&varint2(pn_len + plaintext_len + TAG_LEN));
    h
}

fn round_trip(
    version: u32,
    dcid: &[u8],
    pn: u32,
    pn_len: usize,
    plaintext: &[u8],
    from_client: bool,
    trailer: &[u8],
) {
    let header = initial_header(
        version,
        dcid,
        b"\x01\x02\x03",
        b"tok",
        pn_len,
        plaintext.len(),
    );
    let mut datagram =
        encrypt_initial(version, dcid, &header, pn, pn_len, plaintext, from_client);
    assert_eq!(
        datagram.len(),
        header.len() + pn_len + plaintext.len() + TAG_LEN
    );
    datagram.extend_from_slice(trailer);
    let length = (pn_len + plaintext.len() + TAG_LEN) as u64;
    assert_eq!(
        decrypt_initial(version, dcid, &datagram, header.len(), length, from_client).as_deref(),
        Ok(plaintext),
        "version 0x{version:x} pn {pn}/{pn_len} from_client {from_client}"
    );
}

#[test]
fn round_trips_v1_v2_and_drafts() {
    let plaintext: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
    let versions = [
        1,
        VERSION_2,
        0xff00_0016,
        0xff00_001b,
        0xff00_001d,
        0xff00_0020,
        0xff00_0022,
        0xface_b001,
        0xface_b002,
        0xface_b013,
    ];
    for version in versions {
        for from_client in [true, false] {
            for (pn, pn_len) in [
                (0, 1),
                (0xab, 1),
                (0x1234, 2),
                (0x12_3456, 3),
                (0xdead_beef, 4),
            ] {
                round_trip(
                    version,
                    b"\x83\x94\xc8\xf0",
                    pn,
                    pn_len,
                    &plaintext,
                    from_client,
                    b"",
                );
            }
            // Empty DCID, minimum sizes, and a coalesced packet after this one.
            round_trip(
                version,
                b"",
                7,
                4,
                b"\x01",
                from_client,
                b"\xc0\x00\x00\x00\x01",
            );
            round_trip(version, b"", 0, 1, b"\x06\x00\x00", from_client, &[0; 100]);
        }
    }
}

#[test]
fn salt_groups_give_distinct_keys() {
    let groups = [1, 0xff00_0016, 0xff00_0017, 0xff00_001d, VERSION_2];
    let keys: Vec<[u8; 16]> = groups
        .iter()
        .map(|&v| derive_keys(v, b"abc", true).unwrap().key)
        .collect();
    for i in 0..keys.len() {
        for j in i + 1..keys.len() {
            assert_ne!(keys[i], keys[j], "0x{:x} vs 0x{:x}", groups[i], groups[j]);
        }
    }
    // Same salt group, same keys.
    assert_eq!(
        derive_keys(0xface_b001, b"abc", true).unwrap().key,
        derive_keys(0xff00_0016, b"abc", true).unwrap().key
    );
    assert_eq!(
        derive_keys(0xface_b00e, b"abc", true).unwrap().key,
        derive_keys(0xff00_001c, b"abc", true).unwrap().key
    );
}

#[test]
fn decryptable_versions() {
    for v in [
        1,
        0xff00_0016,
        0xff00_0022,
        0xface_b001,
        0xface_b002,
        0xface_b00e,
        0xface_b013,
        VERSION_2,
    ] {
        assert!(decryptable_version(v), "0x{v:x}");
    }
    for v in [
        0,
        2,
        0xff00_0015,
        0xff00_0023,
        0xface_b000,
        0xface_b014,
        0x709a_50c4,
        0x1a2a_3a4a,
        0x6b33_43ce,
    ] {
        assert!(!decryptable_version(v), "0x{v:x}");
    }
}

#[test]
fn tampering_fails_decryption() {
    let packet = unhex(V1_CLIENT_PACKET);
    let dcid = unhex(DCID);
    let failed = Err("decryption failed".to_string());
    // Last tag byte, a ciphertext byte, the sample, a header byte (AAD), the pn and first byte.
    for at in [1199, 1183, 600, 30, 5, 14, 19, 0] {
        let mut p = packet.clone();
        p[at] ^= 0x01;
        assert_eq!(
            decrypt_initial(1, &dcid, &p, 18, 1182, true),
            failed,
            "byte {at}"
        );
    }
    // A byte after the packet belongs to the next one and changes nothing.
    let mut p = packet.clone();
    p.push(0xff);
    assert!(decrypt_initial(1, &dcid, &p, 18, 1182, true).is_ok());
}

#[test]
fn zeek_error_messages() {
    let packet = unhex(V1_CLIENT_PACKET);
    let dcid = unhex(DCID);
    let err = |v: u32, p: &[u8], off: usize, len: u64| {
        decrypt_initial(v, &dcid, p, off, len, true).unwrap_err()
    };
    assert_eq!(err(1, &packet, 18, 19), "payload too small 19 < 20");
    assert_eq!(err(1, &packet, 18, 0), "payload too small 0 < 20");
    // Checked before the version, as in Zeek.
    assert_eq!(
        err(0x1234_5678, &packet, 18, 19),
        "payload too small 19 < 20"
    );
    assert_eq!(
        err(1, &packet[..1199], 18, 1182),
        "packet too small 1199 1200"
    );
    assert_eq!(err(1, &[], 0, 20), "packet too small 0 20");
    assert_eq!(
        err(0x1234_5678, &packet[..10], 18, 1182),
        "packet too small 10 1200"
    );
    assert_eq!(
        err(1, &packet, 18, u64::MAX),
        format!("packet too small 1200 {}", 18u128 + u128::from(u64::MAX))
    );
    assert_eq!(
        err(1, &packet, usize::MAX, 20),
        format!("packet too small 1200 {}", usize::MAX as u128 + 20)
    );
    assert_eq!(
        err(0x1234_5678, &packet, 18, 1182),
        "unable to decrypt QUIC version 0x12345678"
    );
    assert_eq!(
        err(0, &packet, 18, 1182),
        "unable to decrypt QUIC version 0x0"
    );
    assert_eq!(
        err(0x709a_50c4, &packet, 18, 1182),
        "unable to decrypt QUIC version 0x709a50c4"
    );
    let big = vec![0xc3; 10_100];
    assert_eq!(err(1, &big, 18, 10_001), "payload_length too large 10001");
    assert_eq!(err(1, &big, 0, 10_000), "decryption failed");
    // A shorter Length than the real one moves the tag: the check fails, nothing panics.
    assert_eq!(err(1, &packet, 18, 1181), "decryption failed");
}

#[test]
fn empty_plaintext_is_a_failure_as_in_zeek() {
    let dcid = b"\x01\x02";
    let header = initial_header(1, dcid, b"", b"", 4, 0);
    let packet = encrypt_initial(1, dcid, &header, 9, 4, b"", true);
    assert_eq!(
        decrypt_initial(1, dcid, &packet, header.len(), 20, true),
        Err("decryption failed".to_string())
    );
}

#[test]
fn packet_number_is_used_as_sent() {
    // A 1-byte pn of 0xff opens with nonce pn 0xff, with no reconstruction from earlier packets.
    let dcid = b"\x05";
    let header = initial_header(1, dcid, b"", b"", 1, 20);
    let packet = encrypt_initial(1, dcid, &header, 0xff, 1, &[1; 20], true);
    assert_eq!(
        decrypt_initial(1, dcid, &packet, header.len(), 37, true),
        Ok(vec![1; 20])
    );
}

#[test]
#[should_panic(expected = "does not fit")]
fn encrypt_rejects_oversized_packet_number() {
    let header = initial_header(1, b"", b"", b"", 1, 10);
    encrypt_initial(1, b"", &header, 0x100, 1, &[0; 10], true);
}

#[test]
#[should_panic(expected = "cannot encrypt QUIC version 0x2")]
fn encrypt_rejects_unknown_version() {
    let header = initial_header(2, b"", b"", b"", 1, 10);
    encrypt_initial(2, b"", &header, 0, 1, &[0; 10], true);
}

/// xorshift64: deterministic noise without another crate.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    fn bytes_below(&mut self, n: usize) -> Vec<u8> {
        let len = self.below(n);
        self.bytes(len)
    }
}

const FUZZ_VERSIONS: [u32; 10] = [
    1,
    VERSION_2,
    0xff00_0016,
    0xff00_001d,
    0xface_b002,
    0,
    2,
    0xff00_0023,
    0xface_b014,
    0x1a2a_3a4a,
];

#[test]
fn random_inputs_never_panic() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let len = rng.below(1500);
        let mut packet = rng.bytes(len);
        if len > 0 && rng.below(2) == 0 {
            packet[0] |= 0x80; // mostly long headers, sometimes not
        }
        let pn_offset = rng.below(len + 30);
        let payload_length = match rng.below(4) {
            0 => rng.next(),
            1 => rng.below(40) as u64,
            2 => len.saturating_sub(pn_offset) as u64,
            _ => rng.below(12_000) as u64,
        };
        let version = FUZZ_VERSIONS[rng.below(FUZZ_VERSIONS.len())];
        let dcid = rng.bytes_below(21);
        let from_client = rng.below(2) == 0;
        let result = decrypt_initial(
            version,
            &dcid,
            &packet,
            pn_offset,
            payload_length,
            from_client,
        );
        // Random bytes almost never carry a valid tag; an Ok would also have to be non-empty.
        if let Ok(p) = result {
            assert!(!p.is_empty());
        }
    }
}

#[test]
fn random_round_trips_and_bit_flips() {
    let mut rng = XorShift(0x0123_4567_89ab_cdef);
    let supported = &FUZZ_VERSIONS[..5];
    for _ in 0..300 {
        let version = supported[rng.below(supported.len())];
        let dcid = rng.bytes_below(21);
        let pn_len = rng.below(4) + 1;
        let pn = if pn_len == 4 {
            rng.next() as u32
        } else {
            (rng.next() as u32) & ((1 << (8 * pn_len)) - 1)
        };
        let plaintext_len = rng.below(400) + 4;
        let plaintext = rng.bytes(plaintext_len);
        let from_client = rng.below(2) == 0;
        let header = initial_header(
            version,
            &dcid,
            &rng.bytes_below(21),
            &rng.bytes_below(30),
            pn_len,
            plaintext.len(),
        );
        let packet =
            encrypt_initial(version, &dcid, &header, pn, pn_len, &plaintext, from_client);
        let length = (pn_len + plaintext.len() + TAG_LEN) as u64;
        assert_eq!(
            decrypt_initial(version, &dcid, &packet, header.len(), length, from_client)
                .as_deref(),
            Ok(&plaintext[..])
        );

        // Any single bit flipped inside the packet breaks it.
        let mut bad = packet.clone();
        let at = rng.below(bad.len());
        bad[at] ^= 1 << rng.below(8);
        assert_eq!(
            decrypt_initial(version, &dcid, &bad, header.len(), length, from_client),
            Err("decryption failed".to_string()),
            "flip at {at}"
        );
    }
}
