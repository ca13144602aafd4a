package wstest

import (
	"bytes"
	"fmt"
	"math/rand"
	"unicode/utf8"

	"github.com/hertzws/websocket"
)

// RandomBytes returns n pseudo-random bytes from seed: data that does not
// compress.
func RandomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	_, _ = rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// RandomText returns exactly n bytes of valid UTF-8 mixing 1- to 4-byte
// runes from seed, so that fragment boundaries fall inside multi-byte
// sequences.
func RandomText(n int, seed int64) []byte {
	r := rand.New(rand.NewSource(seed))
	b := make([]byte, 0, n)
	var tmp [utf8.UTFMax]byte
	for len(b) < n {
		var c rune
		switch r.Intn(4) {
		case 0:
			c = rune(0x20 + r.Intn(0x5F))
		case 1:
			c = rune(0x80 + r.Intn(0x800-0x80))
		case 2:
			c = rune(0x800 + r.Intn(0xD800-0x800)) // below the surrogates
		default:
			c = rune(0x10000 + r.Intn(0x110000-0x10000))
		}
		size := utf8.EncodeRune(tmp[:], c)
		if len(b)+size > n {
			b = append(b, 'a') // pad with ASCII to hit n exactly
			continue
		}
		b = append(b, tmp[:size]...)
	}
	return b
}

// JSONText returns n bytes of repetitive JSON-like ASCII text, which
// compresses well.
func JSONText(n, seed int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"seq":%d,"user":"user-%d","event":"message","text":"the quick brown fox jumps over the lazy dog","ok":true}`+"\n", seed+i, (seed+i*7)%13)
	}
	return b.Bytes()[:n]
}

// CompressibleBinary returns n bytes of compressible binary data: a random
// 1 KiB block repeated, with a random byte sprinkled every 64 bytes or so.
func CompressibleBinary(n, seed int) []byte {
	rng := rand.New(rand.NewSource(int64(seed)))
	block := make([]byte, 1024)
	rng.Read(block)
	p := make([]byte, n)
	for i := range p {
		p[i] = block[i%len(block)]
	}
	for i := rng.Intn(64); i < n; i += 32 + rng.Intn(64) {
		p[i] = byte(rng.Intn(256))
	}
	return p
}

// Compressible returns n compressible bytes for a message of type mt:
// JSONText for a text message, CompressibleBinary for a binary one.
func Compressible(mt, n, seed int) []byte {
	if mt == websocket.TextMessage {
		return JSONText(n, seed)
	}
	return CompressibleBinary(n, seed)
}

var chatPhrases = []string{
	"hello everyone", "did you see the release notes?", "yes, compression finally landed",
	"the benchmark numbers look good", "lunch at noon?", "pushing a fix for the flaky test",
	"LGTM, ship it", "can someone review my PR", "the build is green again", "brb",
}

// ChatMessage returns the i-th message of a chat-like JSON conversation:
// the same structure every time with a few changing fields, 250 to 400
// bytes.
func ChatMessage(i int) []byte {
	users := []string{"alice", "bob", "carol", "dave", "erin"}
	return []byte(fmt.Sprintf(`{"type":"chat.message","room":{"id":"general","name":"General discussion"},`+
		`"seq":%d,"from":{"id":%d,"name":%q,"status":"online","avatar":"https://example.com/avatars/%s.png"},`+
		`"text":%q,"ts":%d,"reactions":[{"emoji":"thumbsup","count":%d}],"tags":["chat","general","v1"]}`,
		i, 1000+i%5, users[i%5], users[i%5], chatPhrases[(i*3)%len(chatPhrases)], 1700000000000+int64(i)*1337, i%4))
}

// chinesePhrases are chat lines of the kind Hertz's users send: Chinese
// text with the ASCII words, numbers and punctuation that come with it.
var chinesePhrases = []string{
	"大家好，今天的发布会几点开始？", "下午三点，会议室 A 见", "刚刚合并了 PR #1024，麻烦帮忙看一下",
	"压测结果出来了：QPS 提升了 35%，延迟 p99 降到 8ms", "收到，我这边马上验证", "午饭去哪儿吃？楼下的面馆还是食堂？",
	"服务器 CPU 占用有点高，是不是 GC 的问题", "我看了一下 pprof，主要是 JSON 序列化", "周五之前能上线吗？",
	"可以的，测试环境已经部署好了", "这个 bug 我复现不了，能发一下日志吗", "日志在 /var/log/app/error.log 里",
	"谢谢！👍", "WebSocket 连接偶尔会断开，客户端需要重连", "建议加上心跳，30 秒一次",
	"明天早上九点开站会，别迟到哦", "好的，没问题", "新版本的压缩率比之前好很多", "内存占用从 800KB 降到了 64KB",
	"这个方案我觉得可行，先写个原型试试", "数据库连接池满了，请求都在排队", "把 max_open_conns 调到 200 试试",
	"已经调了，现在正常了", "辛苦了！", "下周有个技术分享，主题是 Go 的调度器",
	"我报名了", "哈哈，又要加班了", "今天的需求评审改到明天下午", "线上告警了，订单服务 5xx 比例 2%",
	"正在回滚，预计 5 分钟恢复", "恢复了，原因是配置写错了一个字段", "以后上线前要先在预发环境验证",
}

// ChineseChatMessage returns the i-th message of a Chinese chat stream:
// the JSON envelope of ChatMessage around a Chinese line, so that
// consecutive messages share structure and differ in their multibyte
// text.
func ChineseChatMessage(i int) []byte {
	users := []string{"小王", "李雷", "韩梅梅", "张伟", "陈静"}
	return []byte(fmt.Sprintf(`{"type":"chat.message","room":{"id":"dev","name":"研发群"},"seq":%d,`+
		`"from":{"id":%d,"name":%q,"status":"在线"},"text":%q,"ts":%d}`,
		i, 2000+i%5, users[i%5], chinesePhrases[(i*7)%len(chinesePhrases)], 1700000000000+int64(i)*1723))
}

// ChatBatch returns the i-th 1 KiB batch of a chat stream: ChatMessage
// i*5, i*5+1, ... in a JSON array, cut to exactly 1,024 bytes and closed
// with ']' (the last element is cut short: the batch is for compressors,
// which do not parse it). Consecutive batches overlap by a few messages,
// as a stream of similar messages does.
func ChatBatch(i int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for j := 0; b.Len() < 1024; j++ {
		if j > 0 {
			b.WriteByte(',')
		}
		b.Write(ChatMessage(i*5 + j))
	}
	return append(b.Bytes()[:1023], ']')
}
