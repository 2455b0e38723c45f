// Texts for the starter dictionary's golden vectors (gen_corporate_vectors.js):
// corporate posts in Japanese and English as owners write them, with the
// mistakes the dictionary is for, the correct forms it must leave alone, and
// the places where a fix would be wrong (URLs, handles, 一致, 変更に, 出来栄え).
"use strict";

module.exports = [
  // Clean posts: nothing to report.
  "【お知らせ】本日より新サービスの提供を開始いたします。詳しくはウェブサイトをご覧ください。",
  "Our new app is now on the App Store and Google Play. Download it today!",
  "お問い合わせは下記のとおりです。電話：03-0000-0000（平日9時〜18時）",
  "GitHubでソースコードを公開しました。JavaScriptとTypeScriptで書かれています。",
  "条件に一致しますので、このままお申し込みください。誘致いたしました企業の皆様、ありがとうございます。",
  "日程が変更になりました。今更ながらのご連絡で申し訳ありません。",
  "新製品の出来栄えにご期待ください。出来高は前日比で増えました。",
  "資料を下さいとのご依頼をいただきました。",
  "詳しくは https://github.com/example/herald と https://www.youtube.com/@example をご覧ください。",
  "Follow us @github_jp and on youtube.com/example for updates.",
  "打ち合わせの日程は改めてご連絡いたします。",
  "",
  // 表記揺れ and business style.
  "【プレスリリース】株式会社ヘラルドは、新しいクラウドサーバのβ版を本日より提供開始致します。\n\nユーザは管理画面から簡単に設定を行なうことが出来ます。詳細は下記をご覧下さい。",
  "お問合せはこちら。問合せ窓口は平日のみです。お問い合せフォームもご利用頂けます。",
  "打合せの結果、来月からサービスを拡充する事になりました。お申込みはお早めに。",
  "ご確認して下さい。ご覧下さい。お待ち下さい。ご了承下さい。",
  "イベントに参加させて頂きました。ご来場頂いた皆様、ありがとうございました。",
  "一部の機能を変更致します。ご迷惑をお掛け致しますが、宜しくお願い致します。",
  "本サービスはスマートフォンからもご利用が出来ます。ログインは出来ない場合があります。",
  "下記の通りです。次の様に設定してください。予定の通り実施します。",
  "雨にも関わらず多くの方にご来場いただきました。宜しければ是非ご参加ください。",
  "予め登録が必要です。殆どの機能は無料で、沢山の方にお使いいただいています。",
  "既に多くの企業で導入されています。先ずは無料でお試しください。更に便利になりました。",
  "但し、一部の店舗を除きます。尚、詳細は追ってお知らせします。",
  "当店のお勧め商品と、スタッフのお薦めをご紹介します。",
  "ブラウザやプリンタの設定はコンピュータの管理者にお尋ねください。共有フォルダも同様です。",
  "ウィルス対策ソフトを更新しました。社内のコミニュケーションを活性化します。",
  "シュミレーションの結果、ハイブリット車の燃費が改善しました。",
  // Misspellings and set phrases.
  "すいません、始めまして。延期せざるおえません。",
  "この資料は読みずらいので、使いずらさを改善しました。分かりずらくて申し訳ありません。",
  "いづれ少しづつ改善します。一つづつ確認します。小づつみで届きます。",
  "以外と多くの方がご存じありません。それ以外と比べて安価です。",
  "まず最初に、ご挨拶を申し上げます。",
  "口が固い担当者が対応します。汚名挽回を目指します。",
  "的を得た指摘をいただきました。的を得る質問でした。",
  "取りつく暇もない対応でした。取り付く暇もない。足元をすくわれることのないよう注意します。",
  "押しも押されぬ人気商品です。社長が采配を振るう新プロジェクト。",
  "熱にうなされるように働いた日々。愛想を振りまく店員。上や下への大騒ぎ。",
  "同じ失敗で二の舞を踏むことのないよう、怒り心頭に達する前に声を荒げずに話し合いましょう。",
  "問題が明るみになる前に、舌の先の乾かぬうちに、体調を壊した社員への対応を見直します。",
  // Product and company names.
  "githubとGithubとGITHUBで公開。Javascriptとjavascriptとjava scriptの講座。",
  "typescript入門、NodeJSとnode.jsとNode.jsの勉強会。",
  "IPhoneとiphoneとI-PhoneとiPhone、ipadとIPad、MacOSとmac os。",
  "airpodsとAirpods。WiFiとwifiとWIFIとWi-fiとWi-Fi、無料WiFiあり。bluetoothとBlueTooth。",
  "Youtubeとyoutubeで配信。facebookとFaceBook、instagramとInstaGram、Linkedinとlinked in。",
  "tiktokとTiktok、chatGPTとChatGpt、wordpressとWordpress、PowerpointとPower Point。",
  "Paypalとpaypal、PlaystationとPlayStation。",
  "キャノンのカメラ、キャノン砲、富士フィルムの写真、ブリジストンのタイヤ、ビッグカメラで販売、シャチハタの印鑑。",
  "Visit https://www.facebook.com/example or https://instagram.com/example, e-mail info@paypal.example.",
  "node.js.example.com と sub.github.io は別のホストです。Github-Actionsとgithub_tokenとmy-github。",
  // Several paragraphs, mixed.
  "新サービスのお知らせ\n\nお問合せは下記の通り。サーバの設定を行なう事ができる方は\nご連絡下さい。\n\n以上、宜しくお願い致します。",
  "Our Youtube channel and github page are live.\n\nNew on iphone and ipad: Wifi sharing via bluetooth.",
];
