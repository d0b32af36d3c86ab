<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AudioPage</name>
    <message>
        <source>System default</source>
        <translation>系统默认</translation>
    </message>
    <message>
        <source>not found now</source>
        <translation>当前未找到</translation>
    </message>
    <message>
        <source>Audio</source>
        <translation>音频</translation>
    </message>
    <message>
        <source>Hold to talk (let go to send)</source>
        <translation>按住说话（松开即发送）</translation>
    </message>
    <message>
        <source>Click to start, click again to send</source>
        <translation>点击开始，再次点击发送</translation>
    </message>
    <message>
        <source>From any application:</source>
        <translation>在任何应用中：</translation>
    </message>
    <message>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <source>Take the assistant&apos;s own voice out of the microphone</source>
        <translation>从麦克风声音中去除助手自己的声音</translation>
    </message>
    <message>
        <source>Follow the system ({language})</source>
        <translation>跟随系统（{language}）</translation>
    </message>
    <message>
        <source>Test the &amp;microphone</source>
        <translation>测试麦克风(&amp;M)</translation>
    </message>
    <message>
        <source>Play a test &amp;sound</source>
        <translation>播放测试音(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Microphone:</source>
        <translation>麦克风(&amp;M)：</translation>
    </message>
    <message>
        <source>S&amp;peaker:</source>
        <translation>扬声器(&amp;P)：</translation>
    </message>
    <message>
        <source>&amp;Talk button:</source>
        <translation>“说话”按钮(&amp;T)：</translation>
    </message>
    <message>
        <source>Talk s&amp;hortcut:</source>
        <translation>说话快捷键(&amp;H)：</translation>
    </message>
    <message>
        <source>Click the shortcut, then press the keys you want; it works as the Talk button.</source>
        <translation>点击快捷键框，然后按下想用的按键；它的作用与“说话”按钮相同。</translation>
    </message>
    <message>
        <source>&amp;Longest recording:</source>
        <translation>最长录音(&amp;L)：</translation>
    </message>
    <message>
        <source>A recording stops by itself after this long.</source>
        <translation>录音达到这个时长后会自动停止。</translation>
    </message>
    <message>
        <source>How to t&amp;alk:</source>
        <translation>说话方式(&amp;A)：</translation>
    </message>
    <message>
        <source>Hands-free keeps the microphone open and answers when you pause; the wake word waits for its phrase first. Also beside the Talk button (Ctrl+L).</source>
        <translation>免提模式下麦克风保持打开，您一停顿助手就回答；唤醒词模式会先等待唤醒词。也可以在“说话”按钮旁边切换（Ctrl+L）。</translation>
    </message>
    <message>
        <source>&amp;Wake word:</source>
        <translation>唤醒词(&amp;W)：</translation>
    </message>
    <message>
        <source>&amp;Echo cancellation:</source>
        <translation>回声消除(&amp;E)：</translation>
    </message>
    <message>
        <source>Keep it on with speakers: without it the assistant hears itself and interrupts its own answers. Headphones do not need it.</source>
        <translation>使用扬声器时请保持开启：否则助手会听到自己的声音，并打断自己的回答。使用耳机时不需要。</translation>
    </message>
    <message>
        <source>Window lan&amp;guage:</source>
        <translation>窗口语言(&amp;G)：</translation>
    </message>
    <message>
        <source>Takes effect the next time the assistant starts.</source>
        <translation>下次启动助手时生效。</translation>
    </message>
    <message>
        <source>Listening for a few seconds… say something.</source>
        <translation>正在聆听几秒钟……请说点什么。</translation>
    </message>
    <message>
        <source>The microphone recorded only silence. Check that it is not muted, or choose another microphone above.</source>
        <translation>麦克风只录到了静音。请检查它是否被静音，或在上方选择另一个麦克风。</translation>
    </message>
    <message>
        <source>The microphone works: it heard you.</source>
        <translation>麦克风正常：它听到了您的声音。</translation>
    </message>
    <message>
        <source>Playing a short tone…</source>
        <translation>正在播放一段短音……</translation>
    </message>
    <message>
        <source>The tone was played. If you heard nothing, check the volume or choose another speaker.</source>
        <translation>测试音已播放。如果您什么也没听到，请检查音量或选择另一个扬声器。</translation>
    </message>
</context>
<context>
    <name>BrainBanner</name>
    <message>
        <source>Meanwhile, Dictation and Read aloud work without one.</source>
        <translation>在此期间，听写和朗读无需语言模型也能使用。</translation>
    </message>
    <message>
        <source>No language model</source>
        <translation>没有语言模型</translation>
    </message>
    <message>
        <source>&lt;b&gt;No language model is reachable.&lt;/b&gt;</source>
        <translation>&lt;b&gt;无法连接到任何语言模型。&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Open &amp;Settings</source>
        <translation>打开设置(&amp;S)</translation>
    </message>
    <message>
        <source>Open Settings</source>
        <translation>打开设置</translation>
    </message>
    <message>
        <source>Try &amp;again</source>
        <translation>重试(&amp;A)</translation>
    </message>
    <message>
        <source>Try again to reach the language model</source>
        <translation>再次尝试连接语言模型</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>正在检查……</translation>
    </message>
</context>
<context>
    <name>BrainPage</name>
    <message>
        <source>Ollama on this computer</source>
        <translation>这台电脑上的 Ollama</translation>
    </message>
    <message>
        <source>LM Studio on this computer</source>
        <translation>这台电脑上的 LM Studio</translation>
    </message>
    <message>
        <source>llama.cpp server on this computer</source>
        <translation>这台电脑上的 llama.cpp 服务器</translation>
    </message>
    <message>
        <source>Volcano Ark (Doubao)</source>
        <translation>火山方舟（豆包）</translation>
    </message>
    <message>
        <source>The server at {host} is on your network and uses plain http: traffic on your home network is not encrypted (anyone on it could read the conversation), and no API key, cloud or other, is ever sent there.</source>
        <translation>{host} 上的服务器位于您的家庭网络中，使用未加密的 http：家庭网络上的流量不加密（网络中的任何人都可能读到对话内容），任何 API 密钥（无论是云服务的还是其他的）都绝不会发送到那里。</translation>
    </message>
    <message>
        <source>Language model</source>
        <translation>语言模型</translation>
    </message>
    <message>
        <source>Another address (OpenAI-compatible)</source>
        <translation>其他地址（兼容 OpenAI）</translation>
    </message>
    <message>
        <source>https://api.example.com/v1</source>
        <translation>https://api.example.com/v1</translation>
    </message>
    <message>
        <source>&amp;Allow this computer</source>
        <translation>允许这台电脑(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Test the connection</source>
        <translation>测试连接(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Service:</source>
        <translation>服务(&amp;S)：</translation>
    </message>
    <message>
        <source>&amp;Address:</source>
        <translation>地址(&amp;A)：</translation>
    </message>
    <message>
        <source>Cloud services need https. If the service needs a key, add it under API keys.</source>
        <translation>云服务需要使用 https。如果服务需要密钥，请在“API 密钥”中添加。</translation>
    </message>
    <message>
        <source>&amp;Model:</source>
        <translation>模型(&amp;M)：</translation>
    </message>
    <message>
        <source>S&amp;ystem prompt:</source>
        <translation>系统提示词(&amp;Y)：</translation>
    </message>
    <message>
        <source>How the assistant should behave. Answers are spoken, so ask for short sentences.</source>
        <translation>助手应当如何表现。回答会被朗读出来，所以请要求使用简短的句子。</translation>
    </message>
    <message>
        <source>Asking the service which models it has…</source>
        <translation>正在询问服务有哪些模型……</translation>
    </message>
    <message>
        <source>{count} models on this service; pick one, or type another name.</source>
        <translation>该服务有 {count} 个模型；请选择一个，或输入其他名称。</translation>
    </message>
    <message>
        <source>The service lists no models. Type the model&apos;s name (for Ollama: ollama pull NAME on the server first).</source>
        <translation>该服务没有列出任何模型。请输入模型名称（使用 Ollama 时：先在服务器上运行 ollama pull 模型名）。</translation>
    </message>
</context>
<context>
    <name>CheckResult</name>
    <message>
        <source>Something unexpected went wrong ({kind}). Try again; if it keeps happening, the log has the details for a bug report.</source>
        <translation>发生了意外错误（{kind}）。请重试；如果问题一直出现，日志中有可用于报告问题的详细信息。</translation>
    </message>
</context>
<context>
    <name>ConversationView</name>
    <message>
        <source>What you say and what the assistant answers appears here.</source>
        <translation>您说的话和助手的回答会显示在这里。</translation>
    </message>
</context>
<context>
    <name>HistoryDialog</name>
    <message>
        <source>History</source>
        <translation>历史记录</translation>
    </message>
    <message>
        <source>Search the conversations (Ctrl+F)</source>
        <translation>搜索对话（Ctrl+F）</translation>
    </message>
    <message>
        <source>Search the conversations</source>
        <translation>搜索对话</translation>
    </message>
    <message>
        <source>Conversations, newest first</source>
        <translation>对话（最新的在前）</translation>
    </message>
    <message>
        <source>No conversations yet. What you say to the assistant is kept here.</source>
        <translation>还没有对话。您对助手说的话会保存在这里。</translation>
    </message>
    <message>
        <source>The chosen conversation</source>
        <translation>所选对话</translation>
    </message>
    <message>
        <source>Choose a conversation to see it here.</source>
        <translation>选择一个对话以在此查看。</translation>
    </message>
    <message>
        <source>No conversation mentions “{}”.</source>
        <translation>没有对话提到“{}”。</translation>
    </message>
    <message>
        <source>Export the conversation</source>
        <translation>导出对话</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>出现问题</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成</translation>
    </message>
</context>
<context>
    <name>KeysPage</name>
    <message>
        <source>&amp;Language model key:</source>
        <translation>语言模型密钥(&amp;L)：</translation>
    </message>
    <message>
        <source>For the language model service, if it needs one.</source>
        <translation>用于语言模型服务（如果它需要密钥）。</translation>
    </message>
    <message>
        <source>&amp;OpenAI key:</source>
        <translation>OpenAI 密钥(&amp;O)：</translation>
    </message>
    <message>
        <source>For OpenAI speech, and transcription on the same server.</source>
        <translation>用于 OpenAI 语音，以及同一服务器上的转写。</translation>
    </message>
    <message>
        <source>&amp;Volcano Engine token:</source>
        <translation>火山引擎令牌(&amp;V)：</translation>
    </message>
    <message>
        <source>The access token for Volcano Engine speech.</source>
        <translation>火山引擎语音的访问令牌（Access Token）。</translation>
    </message>
    <message>
        <source>T&amp;ranscription key:</source>
        <translation>转写密钥(&amp;R)：</translation>
    </message>
    <message>
        <source>For a remote transcription service on another server than OpenAI speech.</source>
        <translation>用于与 OpenAI 语音不在同一服务器上的远程转写服务。</translation>
    </message>
    <message>
        <source>API keys</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>Keys are kept in your system&apos;s keyring, never in the settings file. A saved key is never shown again: type a new one to replace it.</source>
        <translation>密钥保存在系统的密钥环中，绝不会写入设置文件。已保存的密钥不会再次显示：输入新的密钥即可替换。</translation>
    </message>
    <message>
        <source>Forget</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Forget the saved {key}</source>
        <translation>删除已保存的{key}</translation>
    </message>
    <message>
        <source>Will be removed when you save</source>
        <translation>保存时将被删除</translation>
    </message>
    <message>
        <source>The saved key will be removed from the keyring when you save.</source>
        <translation>保存时，已保存的密钥将从密钥环中删除。</translation>
    </message>
    <message>
        <source>Set in the environment</source>
        <translation>已在环境变量中设置</translation>
    </message>
    <message>
        <source>Set by the environment variable {variable}, which wins over the keyring.</source>
        <translation>由环境变量 {variable} 设置，它优先于密钥环。</translation>
    </message>
    <message>
        <source>•••••••• saved; type to replace</source>
        <translation>•••••••• 已保存；输入即可替换</translation>
    </message>
    <message>
        <source>Saved in the system keyring.</source>
        <translation>已保存在系统密钥环中。</translation>
    </message>
    <message>
        <source>Paste the key here</source>
        <translation>在此粘贴密钥</translation>
    </message>
    <message>
        <source>Not set.</source>
        <translation>未设置。</translation>
    </message>
    <message>
        <source>{hint} {state}</source>
        <translation>{hint}{state}</translation>
    </message>
</context>
<context>
    <name>LatencyView</name>
    <message>
        <source>After your next turn, this shows how long each step took: transcription, the model&apos;s first word, and the voice.</source>
        <translation>下一轮对话之后，这里会显示每一步花了多长时间：转写、模型的第一个字，以及语音。</translation>
    </message>
    <message>
        <source>Timings of the last turn</source>
        <translation>上一轮的耗时</translation>
    </message>
</context>
<context>
    <name>LevelMeter</name>
    <message>
        <source>Microphone level</source>
        <translation>麦克风音量</translation>
    </message>
    <message>
        <source>{percent} percent</source>
        <translation>{percent}%</translation>
    </message>
</context>
<context>
    <name>ListeningModeBox</name>
    <message>
        <source>Push-to-talk</source>
        <translation>按键说话</translation>
    </message>
    <message>
        <source>Hands-free</source>
        <translation>免提</translation>
    </message>
    <message>
        <source>Wake word</source>
        <translation>唤醒词</translation>
    </message>
    <message>
        <source>Hold Talk (or Space) while you speak.</source>
        <translation>说话时按住“说话”（或空格键）。</translation>
    </message>
    <message>
        <source>The microphone stays open: just speak, and I answer when you pause. Speak over my answer to interrupt it; I never answer my own voice.</source>
        <translation>麦克风保持打开：直接说话，您一停顿我就回答。在我回答时说话即可打断我；我不会回应自己的声音。</translation>
    </message>
    <message>
        <source>Say the wake word, then speak.</source>
        <translation>先说唤醒词，然后说话。</translation>
    </message>
    <message>
        <source>How to talk</source>
        <translation>说话方式</translation>
    </message>
    <message>
        <source>How a turn begins (Ctrl+L)</source>
        <translation>一轮对话如何开始（Ctrl+L）</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Voice Assistant</source>
        <translation>语音助手</translation>
    </message>
    <message>
        <source>Timings</source>
        <translation>耗时</translation>
    </message>
    <message>
        <source>Show the timings of the last turn</source>
        <translation>显示上一轮的耗时</translation>
    </message>
    <message>
        <source>&amp;New conversation</source>
        <translation>新对话(&amp;N)</translation>
    </message>
    <message>
        <source>Forget this conversation and start afresh (Ctrl+N)</source>
        <translation>忘掉这段对话，重新开始（Ctrl+N）</translation>
    </message>
    <message>
        <source>Se&amp;ttings…</source>
        <translation>设置(&amp;T)…</translation>
    </message>
    <message>
        <source>Devices, speech, the language model, the voice, keys</source>
        <translation>设备、语音识别、语言模型、语音、密钥</translation>
    </message>
    <message>
        <source>&amp;History…</source>
        <translation>历史记录(&amp;H)…</translation>
    </message>
    <message>
        <source>History</source>
        <translation>历史记录</translation>
    </message>
    <message>
        <source>Earlier conversations: open, export or delete them (Ctrl+H)</source>
        <translation>以前的对话：打开、导出或删除（Ctrl+H）</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <source>Keyboard shortcuts (F1)</source>
        <translation>键盘快捷键（F1）</translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation>停止(&amp;S)</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop listening or speaking at once (Esc)</source>
        <translation>立即停止聆听或朗读（Esc）</translation>
    </message>
    <message>
        <source>Or type a message and press Enter</source>
        <translation>或者输入消息后按回车</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>消息</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Send the message</source>
        <translation>发送消息</translation>
    </message>
    <message>
        <source>Stop listening or speaking at once</source>
        <translation>立即停止聆听或朗读</translation>
    </message>
    <message>
        <source>New conversation</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Choose how a turn begins (push-to-talk, hands-free…)</source>
        <translation>选择一轮对话如何开始（按住说话、免提……）</translation>
    </message>
    <message>
        <source>History of conversations</source>
        <translation>对话历史记录</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Go to {}</source>
        <translation>转到{}</translation>
    </message>
    <message>
        <source>This list of keyboard shortcuts</source>
        <translation>本键盘快捷键列表</translation>
    </message>
    <message>
        <source>Read the text aloud (in Read aloud)</source>
        <translation>朗读文字（在“朗读”中）</translation>
    </message>
    <message>
        <source>Talking</source>
        <translation>说话</translation>
    </message>
    <message>
        <source>Shortcuts</source>
        <translation>快捷键</translation>
    </message>
    <message>
        <source>Buttons</source>
        <translation>按钮</translation>
    </message>
    <message>
        <source>Hold to talk; let go when you are done</source>
        <translation>按住说话；说完后松开</translation>
    </message>
    <message>
        <source>Press to talk; press again when you are done</source>
        <translation>按一下开始说话；说完后再按一次</translation>
    </message>
    <message>
        <source>Send the typed message (in the message box)</source>
        <translation>发送输入的消息（在消息框中）</translation>
    </message>
    <message>
        <source>Talk from any application</source>
        <translation>在任何应用中说话</translation>
    </message>
    <message>
        <source>Talk from any application: choose a shortcut in Settings &gt; Audio</source>
        <translation>在任何应用中说话：请在“设置 &gt; 音频”中选择快捷键</translation>
    </message>
    <message>
        <source>Getting ready: {}</source>
        <translation>正在准备：{}</translation>
    </message>
    <message>
        <source>Getting ready…</source>
        <translation>正在准备……</translation>
    </message>
    <message>
        <source>Ready. {}</source>
        <translation>就绪。{}</translation>
    </message>
    <message>
        <source>Listening… I answer when you pause.</source>
        <translation>正在聆听……您一停顿我就回答。</translation>
    </message>
    <message>
        <source>Listening… let go of Talk when you are done.</source>
        <translation>正在聆听……说完后松开“说话”。</translation>
    </message>
    <message>
        <source>Listening… click Talk again when you are done.</source>
        <translation>正在聆听……说完后再次点击“说话”。</translation>
    </message>
    <message>
        <source>Transcribing what you said…</source>
        <translation>正在转写您说的话……</translation>
    </message>
    <message>
        <source>Thinking…</source>
        <translation>正在思考……</translation>
    </message>
    <message>
        <source>Reading aloud… press Stop (Esc) to end.</source>
        <translation>正在朗读……按“停止”（Esc）结束。</translation>
    </message>
    <message>
        <source>Speaking… {}</source>
        <translation>正在说话……{}</translation>
    </message>
    <message>
        <source>Speaking… press Talk to interrupt, or Stop (Esc).</source>
        <translation>正在说话……按“说话”可打断，或按“停止”（Esc）。</translation>
    </message>
    <message>
        <source>Something went wrong. Try again.</source>
        <translation>出了点问题。请重试。</translation>
    </message>
    <message>
        <source>Space, or {} anywhere</source>
        <translation>空格键，或在任何地方按 {}</translation>
    </message>
    <message>
        <source>Space</source>
        <translation>空格键</translation>
    </message>
    <message>
        <source>Hold Talk (or {})</source>
        <translation>按住“说话”（或{}）</translation>
    </message>
    <message>
        <source>Click Talk (or press {})</source>
        <translation>点击“说话”（或按{}）</translation>
    </message>
    <message>
        <source>Ready. Type or paste text, then press Read aloud.</source>
        <translation>就绪。输入或粘贴文字，然后按“朗读”。</translation>
    </message>
    <message>
        <source>Hands-free: listening. Just speak; I answer when you pause.</source>
        <translation>免提：正在聆听。直接说话，您一停顿我就回答。</translation>
    </message>
    <message>
        <source>Wake word: waiting for “{}”, then speak.</source>
        <translation>唤醒词：等待“{}”，然后请说话。</translation>
    </message>
    <message>
        <source>Ready to take dictation. {} and speak.</source>
        <translation>可以开始听写。{}并说话。</translation>
    </message>
    <message>
        <source>Ready. {} and speak, or type a message.</source>
        <translation>就绪。{}并说话，或者输入消息。</translation>
    </message>
</context>
<context>
    <name>ModeSwitch</name>
    <message>
        <source>Conversation</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Dictation</source>
        <translation>听写</translation>
    </message>
    <message>
        <source>Read aloud</source>
        <translation>朗读</translation>
    </message>
    <message>
        <source>Talk or type to the assistant; it answers out loud.</source>
        <translation>对助手说话或打字；它会大声回答。</translation>
    </message>
    <message>
        <source>Speak; what you said is written down and copied to the clipboard.</source>
        <translation>说话；您说的内容会被写下来并复制到剪贴板。</translation>
    </message>
    <message>
        <source>Type or paste text and hear it read aloud.</source>
        <translation>输入或粘贴文字，然后听它被朗读出来。</translation>
    </message>
    <message>
        <source>Mode</source>
        <translation>模式</translation>
    </message>
</context>
<context>
    <name>ModelBanner</name>
    <message>
        <source>The speech model is missing</source>
        <translation>缺少语音识别模型</translation>
    </message>
    <message>
        <source>&amp;Choose a folder…</source>
        <translation>选择文件夹(&amp;C)…</translation>
    </message>
    <message>
        <source>Choose a folder that holds the speech model</source>
        <translation>选择存放语音识别模型的文件夹</translation>
    </message>
    <message>
        <source>Use the &amp;built-in model</source>
        <translation>使用内置模型(&amp;B)</translation>
    </message>
    <message>
        <source>Use the built-in speech model (English, small)</source>
        <translation>使用内置的语音识别模型（英语，小型）</translation>
    </message>
    <message>
        <source>The tiny English model that comes with the assistant</source>
        <translation>助手自带的微型英语模型</translation>
    </message>
    <message>
        <source>The built-in speech model is missing from this installation.</source>
        <translation>此安装中缺少内置的语音识别模型。</translation>
    </message>
    <message>
        <source>The speech model {} is not on this computer, and it could not be downloaded just now.</source>
        <translation>这台电脑上没有语音识别模型 {}，刚才也无法下载。</translation>
    </message>
    <message>
        <source>Trying…</source>
        <translation>正在尝试……</translation>
    </message>
    <message>
        <source>&amp;Download it ({}, 75 MB)</source>
        <translation>下载(&amp;D)（{}，75 MB）</translation>
    </message>
    <message>
        <source>Download the built-in speech model</source>
        <translation>下载内置的语音识别模型</translation>
    </message>
    <message>
        <source>Try a&amp;gain</source>
        <translation>重试(&amp;G)</translation>
    </message>
    <message>
        <source>Try again to download the speech model</source>
        <translation>再次尝试下载语音识别模型</translation>
    </message>
    <message>
        <source>Choose the folder that holds the speech model</source>
        <translation>选择存放语音识别模型的文件夹</translation>
    </message>
    <message>
        <source>The folder {0} holds no speech model: a Whisper model folder has a file called {1} in it. Choose the folder that has it.</source>
        <translation>文件夹 {0} 中没有语音识别模型：Whisper 模型文件夹里会有一个名为 {1} 的文件。请选择包含该文件的文件夹。</translation>
    </message>
</context>
<context>
    <name>ReadAloudBox</name>
    <message>
        <source>Text to read aloud</source>
        <translation>要朗读的文字</translation>
    </message>
    <message>
        <source>Type or paste text here, then press Read aloud (Ctrl+Enter).</source>
        <translation>在此输入或粘贴文字，然后按“朗读”（Ctrl+Enter）。</translation>
    </message>
    <message>
        <source>&amp;Read aloud</source>
        <translation>朗读(&amp;R)</translation>
    </message>
    <message>
        <source>Read aloud</source>
        <translation>朗读</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Asking the service…</source>
        <translation>正在询问服务……</translation>
    </message>
    <message>
        <source>It works: {address} answered.</source>
        <translation>连接正常：{address} 已回应。</translation>
    </message>
    <message>
        <source>Speaking a sample…</source>
        <translation>正在朗读示例……</translation>
    </message>
    <message>
        <source>The sample was played. If you heard nothing, check the speaker under Audio.</source>
        <translation>示例已播放。如果您什么也没听到，请在“音频”中检查扬声器。</translation>
    </message>
    <message>
        <source>Fix the marked setting first, then test again.</source>
        <translation>请先修正标出的设置，然后再测试。</translation>
    </message>
</context>
<context>
    <name>ShortcutField</name>
    <message>
        <source>Press the keys…</source>
        <translation>请按下按键……</translation>
    </message>
    <message>
        <source>Talk shortcut</source>
        <translation>说话快捷键</translation>
    </message>
    <message>
        <source>Click, then press the keys you want. Esc keeps the current shortcut.</source>
        <translation>点击后按下想用的按键。按 Esc 保留当前快捷键。</translation>
    </message>
    <message>
        <source>Current shortcut: {shortcut}</source>
        <translation>当前快捷键：{shortcut}</translation>
    </message>
</context>
<context>
    <name>ShortcutsSheet</name>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
</context>
<context>
    <name>SpeechPage</name>
    <message>
        <source>Built-in: tiny.en (English, works offline)</source>
        <translation>内置：tiny.en（英语，可离线使用）</translation>
    </message>
    <message>
        <source>Processor (CPU): works everywhere</source>
        <translation>处理器（CPU）：任何电脑都能用</translation>
    </message>
    <message>
        <source>NVIDIA graphics card (CUDA)</source>
        <translation>NVIDIA 显卡（CUDA）</translation>
    </message>
    <message>
        <source>The graphics card if there is one, else the processor</source>
        <translation>有显卡就用显卡，否则用处理器</translation>
    </message>
    <message>
        <source>Detect automatically</source>
        <translation>自动检测</translation>
    </message>
    <message>
        <source>English</source>
        <translation>英语</translation>
    </message>
    <message>
        <source>Chinese</source>
        <translation>中文</translation>
    </message>
    <message>
        <source>German</source>
        <translation>德语</translation>
    </message>
    <message>
        <source>Spanish</source>
        <translation>西班牙语</translation>
    </message>
    <message>
        <source>French</source>
        <translation>法语</translation>
    </message>
    <message>
        <source>Italian</source>
        <translation>意大利语</translation>
    </message>
    <message>
        <source>Japanese</source>
        <translation>日语</translation>
    </message>
    <message>
        <source>Korean</source>
        <translation>韩语</translation>
    </message>
    <message>
        <source>Dutch</source>
        <translation>荷兰语</translation>
    </message>
    <message>
        <source>Portuguese</source>
        <translation>葡萄牙语</translation>
    </message>
    <message>
        <source>Russian</source>
        <translation>俄语</translation>
    </message>
    <message>
        <source>Simplified (简体字)</source>
        <translation>简体字</translation>
    </message>
    <message>
        <source>Traditional (繁體字)</source>
        <translation>繁体字（繁體字）</translation>
    </message>
    <message>
        <source>many languages</source>
        <translation>多种语言</translation>
    </message>
    <message>
        <source>{name} ({understands}, downloaded)</source>
        <translation>{name}（{understands}，已下载）</translation>
    </message>
    <message>
        <source>{name} ({understands}, {weight} download)</source>
        <translation>{name}（{understands}，需下载 {weight}）</translation>
    </message>
    <message>
        <source>{name} ({understands}, download)</source>
        <translation>{name}（{understands}，需下载）</translation>
    </message>
    <message>
        <source>Speech recognition</source>
        <translation>语音识别</translation>
    </message>
    <message>
        <source>On this computer (Whisper, private, works offline)</source>
        <translation>在这台电脑上（Whisper，私密，可离线使用）</translation>
    </message>
    <message>
        <source>An OpenAI-compatible transcription service</source>
        <translation>兼容 OpenAI 的转写服务</translation>
    </message>
    <message>
        <source>&amp;Where:</source>
        <translation>位置(&amp;W)：</translation>
    </message>
    <message>
        <source>Service &amp;URL:</source>
        <translation>服务地址(&amp;U)：</translation>
    </message>
    <message>
        <source>Service m&amp;odel:</source>
        <translation>服务模型(&amp;O)：</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>浏览(&amp;B)…</translation>
    </message>
    <message>
        <source>Choose a folder that holds a Whisper model</source>
        <translation>选择存放 Whisper 模型的文件夹</translation>
    </message>
    <message>
        <source>&amp;Model:</source>
        <translation>模型(&amp;M)：</translation>
    </message>
    <message>
        <source>The built-in model is quick and works offline. Larger ones understand more but are slower; each is downloaded once. A folder must hold a Whisper model in CTranslate2 format ({file}).</source>
        <translation>内置模型速度快，可离线使用。更大的模型能听懂更多，但速度更慢；每个只需下载一次。文件夹中必须有 CTranslate2 格式的 Whisper 模型（{file}）。</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>&amp;Download</source>
        <translation>下载(&amp;D)</translation>
    </message>
    <message>
        <source>Download progress</source>
        <translation>下载进度</translation>
    </message>
    <message>
        <source>Cancel download</source>
        <translation>取消下载</translation>
    </message>
    <message>
        <source>Cancel the download</source>
        <translation>取消下载</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>语言(&amp;L)：</translation>
    </message>
    <message>
        <source>Naming the language makes short phrases more reliable. English-only models (.en) understand only English.</source>
        <translation>指定语言能让短句识别更可靠。仅限英语的模型（.en）只能听懂英语。</translation>
    </message>
    <message>
        <source>e.g. en, de, zh</source>
        <translation>例如 zh, en, de</translation>
    </message>
    <message>
        <source>Languages you &amp;speak:</source>
        <translation>您说的语言(&amp;S)：</translation>
    </message>
    <message>
        <source>Codes or names, separated by commas (en, Deutsch, 中文): detection picks among them, which is surer on short phrases. Empty: your system&apos;s and English ({languages}).</source>
        <translation>语言代码或名称，用逗号分隔（en, Deutsch, 中文）：自动检测只在这些语言中选择，短句识别更可靠。留空：使用系统语言和英语（{languages}）。</translation>
    </message>
    <message>
        <source>Follow the system: {script}</source>
        <translation>跟随系统：{script}</translation>
    </message>
    <message>
        <source>&amp;Chinese characters:</source>
        <translation>汉字字形(&amp;C)：</translation>
    </message>
    <message>
        <source>What Mandarin is written in: Simplified (mainland China, Singapore) or Traditional (Taiwan, Hong Kong, Macao).</source>
        <translation>普通话用哪种汉字书写：简体（中国大陆、新加坡）或繁体（台湾、香港、澳门）。</translation>
    </message>
    <message>
        <source>e.g. Anna Kowalski, Kubernetes, Zürich</source>
        <translation>例如 张伟, Kubernetes, 苏黎世</translation>
    </message>
    <message>
        <source>&amp;Names you say often:</source>
        <translation>常说的名称(&amp;N)：</translation>
    </message>
    <message>
        <source>Names and words the model should expect, written the way you want them spelled.</source>
        <translation>模型应当预料到的名字和词语，按您希望的写法书写。</translation>
    </message>
    <message>
        <source>&amp;Runs on:</source>
        <translation>运行于(&amp;R)：</translation>
    </message>
    <message>
        <source>&amp;Precision:</source>
        <translation>精度(&amp;P)：</translation>
    </message>
    <message>
        <source>int8 is the fastest on a processor; float16 suits graphics cards.</source>
        <translation>在处理器上 int8 最快；float16 适合显卡。</translation>
    </message>
    <message>
        <source>Folder: {folder}</source>
        <translation>文件夹：{folder}</translation>
    </message>
    <message>
        <source>Choose the folder that holds a Whisper model</source>
        <translation>选择存放 Whisper 模型的文件夹</translation>
    </message>
    <message>
        <source>The folder {folder} holds no Whisper model: it has no {file}. Choose the folder that has it.</source>
        <translation>文件夹 {folder} 中没有 Whisper 模型：缺少 {file}。请选择包含该文件的文件夹。</translation>
    </message>
    <message>
        <source>&amp;Download {model}</source>
        <translation>下载 {model}(&amp;D)</translation>
    </message>
    <message>
        <source>Downloading the speech model {model}…</source>
        <translation>正在下载语音识别模型 {model}……</translation>
    </message>
    <message>
        <source>The download of {model} was cancelled.</source>
        <translation>{model} 的下载已取消。</translation>
    </message>
    <message>
        <source>{model} is downloaded. Save to use it.</source>
        <translation>{model} 已下载。保存后即可使用。</translation>
    </message>
</context>
<context>
    <name>StartupProblem</name>
    <message>
        <source>The settings file cannot be used</source>
        <translation>无法使用设置文件</translation>
    </message>
    <message>
        <source>“Start with defaults for now” leaves the file as it is: nothing is ever saved over it. Changes you make in Settings meanwhile last until you quit.</source>
        <translation>“暂时使用默认设置启动”不会改动文件：绝不会有任何内容写入覆盖它。在此期间您在“设置”中所做的更改只保留到退出为止。</translation>
    </message>
    <message>
        <source>The assistant runs with its default settings for now, because the settings file cannot be used: {problem}
The file is left as it is: changes made in Settings are not saved over it, and last until you quit. Fix the file, then restart the assistant.</source>
        <translation>由于无法使用设置文件，助手暂时以默认设置运行：{problem}
文件保持原样：在“设置”中所做的更改不会写入覆盖它，只保留到退出为止。请修正文件，然后重新启动助手。</translation>
    </message>
    <message>
        <source>Voice Assistant: a problem with the settings</source>
        <translation>语音助手：设置有问题</translation>
    </message>
    <message>
        <source>What is wrong</source>
        <translation>问题所在</translation>
    </message>
    <message>
        <source>&amp;Open the file</source>
        <translation>打开文件(&amp;O)</translation>
    </message>
    <message>
        <source>Open {file} in the application that edits such files</source>
        <translation>用编辑此类文件的应用打开 {file}</translation>
    </message>
    <message>
        <source>&amp;Try again</source>
        <translation>重试(&amp;T)</translation>
    </message>
    <message>
        <source>Read the file again, once you have fixed it</source>
        <translation>修正后重新读取文件</translation>
    </message>
    <message>
        <source>Start with &amp;defaults for now</source>
        <translation>暂时使用默认设置启动(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>No application could open {file}. Open it with a text editor, fix it, then press Try again.</source>
        <translation>没有应用能打开 {file}。请用文本编辑器打开并修正它，然后按“重试”。</translation>
    </message>
    <message>
        <source>The file still has a problem (the message above says which).</source>
        <translation>文件仍然有问题（上面的消息说明了是什么问题）。</translation>
    </message>
</context>
<context>
    <name>StatusLine</name>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Working</source>
        <translation>正在处理</translation>
    </message>
    <message>
        <source>{} percent done</source>
        <translation>已完成 {}%</translation>
    </message>
</context>
<context>
    <name>TalkButton</name>
    <message>
        <source>Getting ready…</source>
        <translation>正在准备……</translation>
    </message>
    <message>
        <source>The speech model is getting ready. Meanwhile, you can type a message.</source>
        <translation>语音识别模型正在准备中。在此期间，您可以输入消息。</translation>
    </message>
    <message>
        <source>Talk</source>
        <translation>说话</translation>
    </message>
    <message>
        <source>Listening… let go to send</source>
        <translation>正在聆听……松开即发送</translation>
    </message>
    <message>
        <source>Click to send</source>
        <translation>点击发送</translation>
    </message>
    <message>
        <source>Hold to talk</source>
        <translation>按住说话</translation>
    </message>
    <message>
        <source>Click to talk</source>
        <translation>点击说话</translation>
    </message>
    <message>
        <source>To speak to the assistant, hold it, or hold Space.</source>
        <translation>要对助手说话，请按住此按钮，或按住空格键。</translation>
    </message>
    <message>
        <source>To speak to the assistant, click it, or press Space.</source>
        <translation>要对助手说话，请点击此按钮，或按空格键。</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <source>Voice Assistant</source>
        <translation>语音助手</translation>
    </message>
    <message>
        <source>The assistant is still running here, in the tray. Click the icon to open the window again, or choose Quit in its menu to end it.</source>
        <translation>助手仍在托盘中运行。点击图标可重新打开窗口，或在其菜单中选择“退出”来结束它。</translation>
    </message>
    <message>
        <source>Getting ready</source>
        <translation>正在准备</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>Listening</source>
        <translation>正在聆听</translation>
    </message>
    <message>
        <source>Thinking</source>
        <translation>正在思考</translation>
    </message>
    <message>
        <source>Speaking</source>
        <translation>正在说话</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>出现问题</translation>
    </message>
    <message>
        <source>Talk</source>
        <translation>说话</translation>
    </message>
    <message>
        <source>Conversation mode</source>
        <translation>对话模式</translation>
    </message>
    <message>
        <source>Start at login</source>
        <translation>登录时启动</translation>
    </message>
    <message>
        <source>Show window</source>
        <translation>显示窗口</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>Send (stop listening)</source>
        <translation>发送（停止聆听）</translation>
    </message>
</context>
<context>
    <name>VoicePage</name>
    <message>
        <source>Offline voice on this computer (Piper, no account needed)</source>
        <translation>这台电脑上的离线声音（Piper，无需账号）</translation>
    </message>
    <message>
        <source>OpenAI-compatible speech service</source>
        <translation>兼容 OpenAI 的语音服务</translation>
    </message>
    <message>
        <source>Volcano Engine (ByteDance) speech, v1</source>
        <translation>火山引擎（字节跳动）语音，v1</translation>
    </message>
    <message>
        <source>Volcano Engine (ByteDance) speech, v3 streaming</source>
        <translation>火山引擎（字节跳动）语音，v3 流式</translation>
    </message>
    <message>
        <source>Voice</source>
        <translation>语音</translation>
    </message>
    <message>
        <source>&amp;Voice service:</source>
        <translation>语音服务(&amp;V)：</translation>
    </message>
    <message>
        <source>&amp;Play a sample</source>
        <translation>播放示例(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Languages:</source>
        <translation>语言(&amp;L)：</translation>
    </message>
    <message>
        <source>One voice per language; the voice service above speaks the others. A sentence in a language no voice speaks is shown, not spoken.</source>
        <translation>每种语言一个声音；其他语言由上面的语音服务朗读。没有声音能朗读的语言，句子只显示、不朗读。</translation>
    </message>
    <message>
        <source>Bundled: Joe (US English)</source>
        <translation>内置：Joe（美式英语）</translation>
    </message>
    <message>
        <source>&amp;File…</source>
        <translation>文件(&amp;F)…</translation>
    </message>
    <message>
        <source>Choose a Piper voice file</source>
        <translation>选择 Piper 声音文件</translation>
    </message>
    <message>
        <source>V&amp;oice:</source>
        <translation>声音(&amp;O)：</translation>
    </message>
    <message>
        <source>The bundled voice, or a Piper .onnx file.</source>
        <translation>内置声音，或一个 Piper .onnx 文件。</translation>
    </message>
    <message>
        <source>&amp;Speed:</source>
        <translation>语速(&amp;S)：</translation>
    </message>
    <message>
        <source>&amp;Address:</source>
        <translation>地址(&amp;A)：</translation>
    </message>
    <message>
        <source>&amp;Model:</source>
        <translation>模型(&amp;M)：</translation>
    </message>
    <message>
        <source>App &amp;ID:</source>
        <translation>应用 ID(&amp;I)：</translation>
    </message>
    <message>
        <source>&amp;Cluster:</source>
        <translation>集群(&amp;C)：</translation>
    </message>
    <message>
        <source>V&amp;oice type:</source>
        <translation>音色类型(&amp;O)：</translation>
    </message>
    <message>
        <source>&amp;Resource ID:</source>
        <translation>资源 ID(&amp;R)：</translation>
    </message>
    <message>
        <source>V&amp;oice (speaker):</source>
        <translation>音色（发音人）(&amp;O)：</translation>
    </message>
    <message>
        <source>Choose a Piper voice</source>
        <translation>选择 Piper 声音</translation>
    </message>
    <message>
        <source>Piper voices (*.onnx)</source>
        <translation>Piper 声音 (*.onnx)</translation>
    </message>
</context>
<context>
    <name>VoicesByLanguage</name>
    <message>
        <source>Voices by language</source>
        <translation>各语言的声音</translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation>移除(&amp;R)</translation>
    </message>
    <message>
        <source>Remove the selected language&apos;s voice</source>
        <translation>移除所选语言的声音</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Volcano Engine v1 (cloud)</source>
        <translation>火山引擎 v1（云端）</translation>
    </message>
    <message>
        <source>Volcano Engine v3 (cloud)</source>
        <translation>火山引擎 v3（云端）</translation>
    </message>
    <message>
        <source>OpenAI-compatible service (cloud)</source>
        <translation>兼容 OpenAI 的服务（云端）</translation>
    </message>
    <message>
        <source>Voice</source>
        <translation>声音</translation>
    </message>
    <message>
        <source>Voice for this language</source>
        <translation>此语言的声音</translation>
    </message>
    <message>
        <source>&amp;Use for this language</source>
        <translation>用于此语言(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Find Piper voices to download…</source>
        <translation>查找可下载的 Piper 声音(&amp;F)…</translation>
    </message>
    <message>
        <source>Piper voices to download</source>
        <translation>可下载的 Piper 声音</translation>
    </message>
    <message>
        <source>&amp;Download</source>
        <translation>下载(&amp;D)</translation>
    </message>
    <message>
        <source>Voice download progress</source>
        <translation>声音下载进度</translation>
    </message>
    <message>
        <source>Cancel download</source>
        <translation>取消下载</translation>
    </message>
    <message>
        <source>Sample</source>
        <translation>示例</translation>
    </message>
    <message>
        <source>Play a sample of the {language} voice</source>
        <translation>播放 {language} 声音的示例</translation>
    </message>
    <message>
        <source>{voice} (Piper, offline)</source>
        <translation>{voice}（Piper，离线）</translation>
    </message>
    <message>
        <source>{voice} will speak {language}. Save to use it.</source>
        <translation>{voice} 将朗读 {language}。保存后即可使用。</translation>
    </message>
    <message>
        <source>Playing a sample of {voice}…</source>
        <translation>正在播放 {voice} 的示例……</translation>
    </message>
    <message>
        <source>The sample was played.</source>
        <translation>示例已播放。</translation>
    </message>
    <message>
        <source>Getting the list of Piper voices…</source>
        <translation>正在获取 Piper 声音列表……</translation>
    </message>
    <message>
        <source>installed</source>
        <translation>已安装</translation>
    </message>
    <message>
        <source>{voices} Piper voices in {languages} languages. Choose one to download.</source>
        <translation>共 {voices} 个 Piper 声音，涵盖 {languages} 种语言。请选择一个下载。</translation>
    </message>
    <message>
        <source>Downloading the voice {voice}…</source>
        <translation>正在下载声音 {voice}……</translation>
    </message>
    <message>
        <source>The download of {voice} was cancelled.</source>
        <translation>{voice} 的下载已取消。</translation>
    </message>
    <message>
        <source>{voice} is installed. Save to use it.</source>
        <translation>{voice} 已安装。保存后即可使用。</translation>
    </message>
    <message>
        <source>{voice} is installed. It will speak {language}. Save to use it.</source>
        <translation>{voice} 已安装，将朗读 {language}。保存后即可使用。</translation>
    </message>
</context>
</TS>
