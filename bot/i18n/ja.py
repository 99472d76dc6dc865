"""日本語のメッセージ。キーは en.py と同じ。"""

MESSAGES: dict[str, str] = {
    # --- job references -------------------------------------------------------------------
    "ref.missing": "ジョブを指定してください。番号（例: `1234567890`）または完全なリソース名 "
    "`projects/PROJECT/locations/REGION/tuningJobs/ID` を使えます。",
    "ref.invalid": "`{text}` はチューニング ジョブではありません。ジョブ番号（例: `1234567890`）"
    "または完全なリソース名 `projects/PROJECT/locations/REGION/tuningJobs/ID` を指定してください。",
    # --- dataset locations ----------------------------------------------------------------
    "dataset.missing": "トレーニング データを Cloud Storage の URI で指定してください（例: "
    "`gs://my-bucket/train.jsonl`）。",
    "dataset.whitespace": "URI に空白または改行が含まれています。`gs://bucket/file.jsonl` の"
    "アドレスだけを貼り付けてください。",
    "dataset.scheme": "`{uri}` は Cloud Storage の URI ではありません。JSONL ファイルをバケットに"
    "アップロードし、`gs://bucket/path.jsonl` の形式で指定してください（http://、https://、"
    "file:// は使えません）。",
    "dataset.bucket_length": "バケット名 `{bucket}` は 3〜63 文字にしてください（ドットを含む場合は"
    "222 文字まで）。",
    "dataset.bucket_chars": "バケット名 `{bucket}` は無効です。英小文字・数字・ハイフン・"
    "アンダースコア・ドットを使い、先頭と末尾は英字か数字にしてください。",
    "dataset.bucket_reserved": "バケット名 `{bucket}` は無効です。「goog」で始まる名前や「google」を"
    "含む名前は使えません。",
    "dataset.no_object": "`{uri}` はバケットまたはフォルダを指しています。JSONL ファイルそのものを"
    "指定してください（例: `gs://my-bucket/train.jsonl`）。",
    "dataset.object_too_long": "オブジェクト名が {limit} バイトを超えています。",
    "dataset.wildcard": "`{uri}` にワイルドカードが含まれています。JSONL ファイルを 1 つだけ"
    "指定してください。",
    "dataset.object_chars": "`{uri}` には Cloud Storage のオブジェクト名に使えない文字が"
    "含まれています。",
    "dataset.vertex_name": "`{uri}` は Vertex AI データセットではありません。"
    "`projects/PROJECT/locations/REGION/datasets/ID` または `gs://` の URI を使ってください。",
    "dataset.not_allowed": "データセットは次の場所のものだけ使えます: {allowed}。別のバケットが"
    "必要な場合は管理者に相談してください。",
    # --- job spec -------------------------------------------------------------------------
    "spec.model_missing": "ベースモデルを選んでください。",
    "spec.model_unknown": "`{model}` はこのボットでチューニングできるモデルではありません。"
    "次から選んでください: {known}。",
    "spec.model_region": "{model} をチューニングできるリージョンは {regions} だけです。"
    "このボットは {region} でジョブを実行します。",
    "spec.model_retired": "{model} は提供が終了しています。Google に拒否される可能性が高いため、"
    "動作が確認できている場合を除き現行モデルを選んでください。",
    "spec.model_retiring": "{model} は {date} に提供終了予定です。現行モデルへの移行を"
    "検討してください。",
    "spec.epochs_not_integer": "エポック数は {low}〜{high} の整数で指定してください。",
    "spec.epochs_range": "エポック数は {low}〜{high} で指定してください。",
    "spec.adapter_not_integer": "アダプタ サイズは 4 や 8 のような数値で指定してください。",
    "spec.adapter_not_supported": "{model} にはアダプタ サイズの設定がありません。空欄にして"
    "ください。",
    "spec.adapter_not_allowed": "{model} で使えるアダプタ サイズは {allowed} です。",
    "spec.lr_not_number": "学習率の乗数は 0 より大きく {high} 以下の数値で指定してください"
    "（例: 1.0）。",
    "spec.lr_range": "学習率の乗数は 0 より大きく {high} 以下にしてください。",
    "spec.display_name_too_long": "名前が {length} 文字あります。{limit} 文字以内にしてください。",
    "spec.display_name_control": "名前に制御文字または改行が含まれています。1 行のテキストに"
    "してください。",
    "spec.labels_too_many": "1 つのジョブに付けられるラベルは {limit} 個までです。",
    "spec.label_invalid": "ラベル `{label}` は無効です。キーと値には英小文字・数字・`_`・`-` を"
    "使い、63 文字以内にしてください。",
    "spec.same_datasets": "トレーニング データと検証データが同じファイルです。検証スコアが実際より"
    "良く見えてしまいます。",
    # --- authorization --------------------------------------------------------------------
    "auth.user_not_allowed": "申し訳ありませんが、このボットの利用者リストに登録されていません。"
    "管理者に追加を依頼してください。",
    "auth.channel_not_allowed": "申し訳ありませんが、このチャンネルからはチューニング ジョブを"
    "実行できません。ボットが設定されているチャンネルでお試しください。",
    "auth.cancel_not_owner": "申し訳ありませんが、このジョブをキャンセルできるのは、開始した人・"
    "ウォッチした人・管理者だけです。",
    # --- job states -----------------------------------------------------------------------
    "state.unspecified": "不明",
    "state.queued": "キュー待ち",
    "state.pending": "準備中",
    "state.running": "実行中",
    "state.succeeded": "成功",
    "state.failed": "失敗",
    "state.cancelling": "キャンセル中",
    "state.cancelled": "キャンセル済み",
    "state.paused": "一時停止",
    "state.expired": "期限切れ",
    "state.updating": "更新中",
    "state.partially_succeeded": "一部成功",
    # --- Google errors --------------------------------------------------------------------
    "google.invalid_argument": "Google がリクエストを拒否しました: {message}",
    "google.permission_denied": "Google で権限が拒否されました: {message}\nボットのサービス "
    "アカウントにはプロジェクト {project} の Vertex AI ユーザー ロール（roles/aiplatform.user）が"
    "必要です。また Vertex AI API が有効になっている必要があります。",
    "google.not_found": "そのジョブは Google にありません: {name}。`/tune list` で番号を確認して"
    "ください。",
    "google.quota": "Google の割り当て（クォータ）が上限に達しています: {message}\n"
    "1 つのプロジェクトで同時に実行できるチューニング ジョブの数には上限があります。実行中の"
    "ジョブが終わるのを待つか、割り当ての引き上げを申請してください。",
    "google.failed_precondition": "現在その操作はできません: {message}",
    "google.unavailable": "Google から時間内に応答がありませんでした（{attempts} 回試行）。"
    "失われたものはありません。数分後にもう一度お試しください。",
    "google.other": "Google がエラーを返しました（{status}）: {message}",
    # --- Slack surface (commands, modals, messages) ---------------------------------------
    # --- status card (created by the Slack surface, kept current by the watcher) ----------
    "card.model": "モデル",
    "card.epochs": "エポック数",
    "card.adapter_size": "アダプタ サイズ",
    "card.lr_multiplier": "学習率の乗数",
    "card.hyperparameters": "ハイパーパラメータ",
    "card.defaults": "Google の既定値",
    "card.training_data": "トレーニング データ",
    "card.started_by": "開始した人",
    "card.created": "作成日時",
    "card.elapsed": "経過",
    "card.data_stats": "*データ:* {examples} 件のサンプル、課金対象トークン {tokens}",
    "card.open_console": "Cloud コンソールで開く",
    "card.cancel": "ジョブをキャンセル",
    "card.cancel_confirm_title": "キャンセルしますか？",
    "card.cancel_confirm_text": "{name} をキャンセルしますか？ Google がジョブを停止します。元に戻せません。",
    "card.cancel_confirm_yes": "キャンセルする",
    "card.cancel_confirm_no": "続行する",
    # --- watcher (status cards, endings) --------------------------------------------------
    # --- dataset pre-flight ---------------------------------------------------------------
}
