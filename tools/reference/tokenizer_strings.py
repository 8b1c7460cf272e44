"""The hard cases the tokenizer fixtures cover (tests/fixtures/tokenizer/strings.json)."""
import unicodedata


def hand_written():
    return [
        # basics
        "", " ", "  ", "   ", "a", "Hello", "Hello world", "hello world", " Hello world", "Hello world ",
        "Hello, world!", "HELLO WORLD", "Hello\nworld", "Hello\n\nworld", "Hello\r\nworld", "Hello\tworld",
        "The quick brown fox jumps over the lazy dog.", "I'm sure it's what you'd've done, isn't it? You'll see.",
        "I'M SURE IT'S WHAT YOU'D'VE DONE", "don't Don't DON'T dOn'T", "'s 's 'S 'll 'LL 've 're 'd 'm 't",
        "rock 'n' roll", "''", "'''", "\"quoted\" 'single'", "a'b", "a' b", "a 'b",
        # whitespace runs
        "\n", "\n\n", "\n\n\n", "\n\n\n\n\n\n\n\n\n\n", "\t", "\t\t", "\t\t\t\t", " \t \t ", "\r", "\r\n", "\r\n\r\n",
        "\n \n", " \n", "\n ", "  \n  ", "a  b", "a   b", "a    b", "a\t\tb", "a \tb", "a\t b", "a \n b", "a\n\n\nb",
        "line1\nline2\r\nline3\rline4", "   leading", "trailing   ", "   both   ", "\n\nleading newlines",
        "trailing newlines\n\n", " " * 31, " " * 32, " " * 33, " " * 100, "\t" * 40, "\n" * 40, " \n" * 10,
        "a" + " " * 17 + "b", "\u00a0", "a\u00a0b", "a\u2009b", "a\u3000b", "\u200b", "a\u200bb", "\ufeffBOM",
        "a\u2028b", "a\u2029b", "\x0b\x0c", "a\x85b",
        # digits
        "0", "1", "12", "123", "1234", "12345", "123456", "1234567", "12345678", "123456789", "1234567890",
        "3.14159265358979", "1,234,567.89", "-42", "+1e-10", "0x1F", "0b1010", "1_000_000", "2024-01-15",
        "10:30:45", "$100", "€50", "50%", "1st 2nd 3rd 4th", "v1.2.3", "IPv4 192.168.0.1",
        "99999999999999999999999999999999", "a1b2c3", "٣٤٥", "१२३", "①②③", "½ ¾", "Ⅻ", "１２３",
        # accents, combining marks, NFC vs NFD
        "café", "naïve", "résumé", "Ångström", "Zürich", "São Paulo", "Crème brûlée", "façade", "jalapeño",
        "ÀÉÎÕÜ àéîõü", "Ελληνικά", "Русский язык", "Українська", "Ğüşöçı İstanbul", "Łódź", "Þórr",
        unicodedata.normalize("NFD", "café"), unicodedata.normalize("NFD", "résumé naïve"),
        unicodedata.normalize("NFD", "Ångström"), "e\u0301", "a\u0308\u0304", "Z\u0351\u0352\u0353algo",
        "ﬁ ﬂ ﬀ", "Ⅸ ㎏ ㍿", "ß ẞ", "ǅ ǈ", "İi Iı", "\u0627\u0644\u0652",
        # CJK, Japanese, Korean
        "日本語", "日本語のテキストです。", "東京都渋谷区", "ひらがな カタカナ ｶﾀｶﾅ", "こんにちは、世界！",
        "中文测试", "你好，世界！", "我爱自然语言处理。", "繁體中文測試", "漢字かな交じり文", "한국어", "안녕하세요, 세계!",
        "한글 자모 ㄱㄴㄷ", "\u1100\u1161\u11a8", "𠀀𠀁 𪚥", "中文 English 日本語 한국어 mixed",
        "「引用」『二重』【括弧】", "全角ＡＢＣ　スペース",
        # emoji
        "🤗", "😀😃😄", "👍", "👍🏻👍🏼👍🏽👍🏾👍🏿", "👨‍👩‍👧‍👦", "👩🏽‍💻", "🏳️‍🌈", "🇺🇸🇯🇵🇩🇪", "❤️", "❤",
        "☺️ ☺", "1️⃣ #️⃣", "🧑‍🤝‍🧑", "Hello 👋 world 🌍!", "emoji🤗glued", "🤗🤗🤗🤗🤗🤗🤗🤗", "🫠🫡🫥",
        # RTL
        "مرحبا بالعالم", "العربية", "שלום עולם", "עברית", "English עברית mixed", "مرحبا Hello", "\u202eRTL override",
        "\u200fRLM\u200e", "فارسی", "اردو",
        # other scripts
        "हिन्दी", "नमस्ते दुनिया", "தமிழ்", "বাংলা", "ไทย ภาษาไทย", "ລາວ", "ქართული", "Հայերեն", "አማርኛ", "ᚠᚢᚦ",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𝐁𝐨𝐥𝐝", "ℌ𝔢𝔩𝔩𝔬", "Ꭰꮳ", "ʃəˈmæntɪks",
        # code
        "def foo(x):\n    return x * 2\n", "for i in range(10):\n\tprint(i)", "if __name__ == \"__main__\":\n    main()",
        "lambda x: x**2 + 1", "print(f\"{value!r:>10}\")", "#include <iostream>\nint main() { return 0; }",
        "std::vector<int> v{1, 2, 3};", "template <typename T> T max(T a, T b) { return a > b ? a : b; }",
        "auto&& [k, v] : m", "a->b->c", "x <<= 2; y >>= 3;", "i++ + ++i", "/* comment */ // line",
        "{\"key\": \"value\", \"n\": [1, 2.5, null, true]}", "{\n  \"a\": {\n    \"b\": []\n  }\n}",
        "^[a-zA-Z0-9._%+-]+@[a-z]+\\.[a-z]{2,}$", "(?i:'s|'t)\\p{L}+", "\\d{3}-\\d{4}", "s/foo/bar/g",
        "SELECT * FROM users WHERE id = 1;", "<div class=\"x\">Hi</div>", "<table><tr><td>1</td></tr></table>",
        "<h1>Title</h1>", "<b>bold</b> <i>it</i>", "$ ls -la | grep foo > out.txt 2>&1", "fn main() { println!(\"hi\"); }",
        "    indented four", "\tindented tab", "        eight spaces", "x=1;y=2", "a==b!=c<=d>=e",
        "array[0][1]", "obj.method().chain()", "#!/usr/bin/env python3", "@decorator\ndef f(): pass",
        "```python\nprint('hi')\n```", "`inline code`",
        # special-token look-alikes and real ones
        "<start_of_turn>", "<end_of_turn>", "<start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\n",
        "<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "<bos>Hello", "Hello<eos>", "<<bos>>", "<bos><bos>", "< bos>",
        "<start_of", "<start_of_turn", "start_of_turn>", "<start_of_turn >", "<START_OF_TURN>", "<start_of_image>",
        "<end_of_image>", "[multimodal]", "<unused0>", "<unused99>", "<unused6241>", "<unused6242>",
        "<|im_start|>", "<|im_end|>", "<|im_start|>user\nhi<|im_end|>", "<|endoftext|>", "<|end|>", "<|eot_id|>",
        "<｜User｜>", "<｜Assistant｜>", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>",
        "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>", "<｜User", "<｜", "｜>", "<|EOT|>", "<|EOT|", "<think>",
        "</think>", "<think>\nreasoning\n</think>\n\nanswer", "<think></think>", "<tool_call>", "</tool_call>",
        "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>", "<|vision_start|><|image_pad|><|vision_end|>", "[PAD151665]",
        "<s>", "</s>", "<0x0A>", "<0xFF>", "▁", "▁▁", "▁hello", "Ġhello", "Ċ", "<tool_call><think>",
        "text<start_of_turn>text", " <start_of_turn> ", "<start_of_turn><start_of_turn>", "<｜User｜><｜User｜>",
        "<end_of_turn><eos>", "<|im_start|><|im_start|>",
        # URLs, markdown, mixed
        "https://example.com/path?query=1&b=2#frag", "http://localhost:8080/", "mailto:user@example.com",
        "www.example.co.uk", "C:\\Users\\name\\file.txt", "/usr/local/bin/python3.11", "~/.config/app",
        "# Heading\n\n## Sub\n\n- item 1\n- item 2\n", "**bold** _italic_ ~~strike~~", "> quote\n> more",
        "1. first\n2. second", "[link](https://x.org)", "![img](a.png)", "| a | b |\n|---|---|\n| 1 | 2 |",
        "---", "***", "___", "...", "…", "—", "–", "-- --- ----", "!!!???", "?!", "....!!!!", "@user #tag",
        "$$ x^2 $$", "\\(a+b\\)", "∑∫∂√∞≠≤≥", "α β γ δ", "→ ← ↑ ↓ ⇒", "© ® ™ ° ± × ÷", "¡¿", "«» „“ ‚‘",
        "♠♣♥♦", "★☆", "█▓▒░", "═║╔╗", "\u00ad", "a\u00adb",
        # control characters
        "\x00", "a\x00b", "\x01\x02\x03", "\x07bell", "\x1b[31mred\x1b[0m", "\x7f", "\x1f", "tab\tand\x0bvtab",
        # very long words and repetition
        "a" * 100, "ab" * 80, "x" * 257, "Supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis",
        "Donaudampfschifffahrtsgesellschaftskapitän", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + "b",
        "ー" * 30, "！" * 20, "😀" * 30, "日本" * 40, "ab cd " * 30, "the " * 50, "\u0301" * 10,
        "Hello" * 20, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "qwertyuiopasdfghjklzxcvbnm" * 3,
    ]


def generated():
    out = []
    words = ["Hello", "world", "café", "日本", "🤗", "123", "<start_of_turn>", "<|im_end|>", "<｜User｜>", "\n", "  ", "\t", "don't"]
    for i, a in enumerate(words):
        for b in words[i + 1:i + 4]:
            out.append(a + b)
            out.append(a + " " + b)
    for n in range(1, 12):
        out.append("9" * n + " " + "x" * n)
    for n in (2, 3, 5, 8):
        out.append(" " * n + "word" + " " * n)
        out.append("\n" * n + "word")
        out.append("word" + "\r\n" * n)
    return out


def all_strings():
    seen, result = set(), []
    for s in hand_written() + generated():
        if s not in seen:
            seen.add(s)
            result.append(s)
    return result


if __name__ == "__main__":
    print(len(all_strings()))
