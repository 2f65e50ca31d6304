//! Self-test of the fake Discord in `tests/support/fake_discord.rs`: its
//! fixtures parse as serenity types, a real serenity client runs against it,
//! its validator can fail, and reconnects work. If these fail, every bot
//! end-to-end test built on the fake is suspect.

use crate::support::fake_discord;

use std::collections::BTreeMap;
use std::sync::Arc;

use fake_discord::*;
use serde_json::{json, Value};
use serenity::all::{
    ChannelId, ClientBuilder, Command, CommandOptionType, Context, CreateAllowedMentions, CreateAutocompleteResponse,
    CreateCommand, CreateCommandOption, CreateEmbed, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, CreateMessage, EditInteractionResponse, Event, EventHandler, GatewayEvent,
    GatewayIntents, Http, HttpBuilder, Interaction, Message, Ready,
};
use serenity::async_trait;

const INTENTS: GatewayIntents =
    GatewayIntents::GUILDS.union(GatewayIntents::GUILD_MESSAGES).union(GatewayIntents::MESSAGE_CONTENT);

/// Parse `d` the way the shard does: as a whole dispatch frame. A payload
/// serenity cannot parse becomes `Event::Unknown` instead of an error.
fn dispatch(event: &str, d: &Value) -> Event {
    let frame = json!({"op": 0, "t": event, "s": 1, "d": d});
    match serde_json::from_value::<GatewayEvent>(frame).expect("gateway frame parses") {
        GatewayEvent::Dispatch(_, Event::Unknown(u)) => {
            panic!("serenity dropped {event} as Unknown: {u:?}")
        }
        GatewayEvent::Dispatch(_, e) => e,
        other => panic!("not a dispatch: {other:?}"),
    }
}

#[test]
fn fixtures_deserialize_into_serenity_types() {
    let cmd = slash_command("ask", json!([{"name": "question", "type": 3, "value": "how do I start?"}]));
    let Interaction::Command(c) = serde_json::from_value::<Interaction>(cmd.payload.clone()).unwrap() else {
        panic!("slash_command is not a command interaction")
    };
    assert_eq!((c.data.name.as_str(), c.id.get().to_string()), ("ask", cmd.id.clone()));
    assert_eq!(c.token, cmd.token);
    assert_eq!(c.guild_id.map(|g| g.get()), Some(GUILD_ID));
    assert_eq!(c.user.id.get(), USER_ID, "serenity copies member.user into user");
    assert_eq!(c.data.options[0].value.as_str(), Some("how do I start?"));
    assert!(matches!(dispatch("INTERACTION_CREATE", &cmd.payload), Event::InteractionCreate(_)));

    let ac = autocomplete("ask", json!([{"name": "topic", "type": 3, "value": "ru", "focused": true}]));
    let Interaction::Autocomplete(a) = serde_json::from_value::<Interaction>(ac.payload.clone()).unwrap() else {
        panic!("autocomplete is not an autocomplete interaction")
    };
    assert_eq!(a.data.autocomplete().map(|o| o.value), Some("ru"));
    assert!(matches!(dispatch("INTERACTION_CREATE", &ac.payload), Event::InteractionCreate(_)));

    let mut bot_msg = message_create("pick one", &[], true);
    bot_msg["components"] =
        json!([{"type": 1, "components": [{"type": 2, "style": 1, "label": "More", "custom_id": "more:1"}]}]);
    let click = button_click("more:1", bot_msg);
    let Interaction::Component(b) = serde_json::from_value::<Interaction>(click.payload.clone()).unwrap() else {
        panic!("button_click is not a component interaction")
    };
    assert_eq!(b.data.custom_id, "more:1");
    assert_eq!(b.message.author.id.get(), BOT_USER_ID);
    assert_eq!(b.message.components.len(), 1);
    assert!(matches!(dispatch("INTERACTION_CREATE", &click.payload), Event::InteractionCreate(_)));
    assert_ne!(cmd.id, ac.id, "interaction ids are unique");

    let msg = message_create("hello <@1100000000000000002>", &[BOT_USER_ID], false);
    let m: Message = serde_json::from_value(msg.clone()).unwrap();
    assert_eq!(m.mentions[0].id.get(), BOT_USER_ID);
    assert!(!m.author.bot && m.guild_id.is_some());
    assert!(matches!(dispatch("MESSAGE_CREATE", &msg), Event::MessageCreate(_)));
    let own: Message = serde_json::from_value(message_create("x", &[], true)).unwrap();
    assert!(own.author.bot);

    let target = message_create("how long does it take?", &[], false);
    let menu = message_command("Ask transition-bot", &target);
    let Interaction::Command(c) = serde_json::from_value::<Interaction>(menu.payload.clone()).unwrap() else {
        panic!("message_command is not a command interaction")
    };
    let serenity::all::ResolvedTarget::Message(resolved) = c.data.target().expect("a target") else {
        panic!("message_command does not target a message")
    };
    assert_eq!(
        (resolved.content.as_str(), resolved.id.get().to_string()),
        ("how long does it take?", target["id"].as_str().unwrap().to_string())
    );

    let ready_d = ready([0, 1], "s1", "ws://127.0.0.1:1/gateway");
    let r: Ready = serde_json::from_value(ready_d.clone()).unwrap();
    assert_eq!((r.user.id.get(), r.application.id.get()), (BOT_USER_ID, APPLICATION_ID));
    assert!(matches!(dispatch("READY", &ready_d), Event::Ready(_)));
}

/// Answers every interaction the way a careful bot does: embeds, and
/// `allowed_mentions` that parses nothing. Replies to messages mentioning it.
struct Handler;

fn no_pings() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
}

#[async_trait]
impl EventHandler for Handler {
    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let response = match &interaction {
            Interaction::Command(c) => CreateInteractionResponse::Message(
                CreateInteractionResponseMessage::new()
                    .content(format!(
                        "You asked: {}",
                        c.data.options.first().and_then(|o| o.value.as_str()).unwrap_or("")
                    ))
                    .embed(CreateEmbed::new().title("Answer").description("Start with Python.").field(
                        "Source",
                        "kb/start.md",
                        false,
                    ))
                    .allowed_mentions(no_pings()),
            ),
            Interaction::Autocomplete(_) => CreateInteractionResponse::Autocomplete(
                CreateAutocompleteResponse::new()
                    .add_string_choice("Rust", "rust")
                    .add_string_choice("Python", "python"),
            ),
            Interaction::Component(_) => CreateInteractionResponse::UpdateMessage(
                CreateInteractionResponseMessage::new().content("clicked").allowed_mentions(no_pings()),
            ),
            _ => return,
        };
        let result = match &interaction {
            Interaction::Command(c) => c.create_response(&ctx.http, response).await,
            Interaction::Autocomplete(a) => a.create_response(&ctx.http, response).await,
            Interaction::Component(b) => b.create_response(&ctx.http, response).await,
            _ => Ok(()),
        };
        result.expect("interaction response accepted by the fake");
    }

    async fn message(&self, ctx: Context, msg: Message) {
        if !msg.author.bot && msg.mentions.iter().any(|u| u.id.get() == BOT_USER_ID) {
            let reply = CreateMessage::new().content("Hi! Try /ask.").allowed_mentions(no_pings());
            msg.channel_id.send_message(&ctx.http, reply).await.expect("channel message accepted");
        }
    }
}

/// A real serenity client pointed at the fake exactly as the bot will be.
async fn start_client(fake: &FakeDiscord, autoshard: bool) -> Arc<Http> {
    let http = HttpBuilder::new(&fake.config().token).proxy(fake.base_url()).ratelimiter_disabled(true).build();
    let mut client = ClientBuilder::new_with_http(http, INTENTS).event_handler(Handler).await.expect("client builds");
    let http = client.http.clone();
    tokio::spawn(async move {
        let result = if autoshard { client.start_autosharded().await } else { client.start().await };
        result.expect("client ran");
    });
    http
}

fn assert_valid(r: &Recorded) {
    if let Err(e) = validate(r) {
        panic!("{} {} rejected: {e:#?}\nbody: {:#}", r.method, r.path, r.body.clone().unwrap_or_default());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serenity_client_connects_answers_and_passes_validation() {
    let fake = FakeDiscord::start(FakeConfig::default()).await;
    let http = start_client(&fake, false).await;
    let logins = fake.wait_ready(1, secs(10)).await;
    assert_eq!(logins.len(), 1);
    let id = &logins[0];
    assert_eq!((id.kind, id.shard, id.token.as_str()), (LoginKind::Identify, [0, 1], "Bot fake-bot-token"));
    assert_eq!(id.intents, INTENTS.bits());
    let gateway = fake.wait_request(|r| r.path == "/gateway", secs(1)).await;
    assert_eq!(gateway.authorization(), Some("Bot fake-bot-token"));

    // Slash command -> type 4 callback with an embed.
    let ask = slash_command("ask", json!([{"name": "question", "type": 3, "value": "how?"}]));
    assert_eq!(fake.send_interaction(&ask), 1);
    let cb = fake.callback_for(&ask.id, secs(5)).await;
    assert_eq!((cb.status, cb.path.clone()), (204, format!("/interactions/{}/{}/callback", ask.id, ask.token)));
    let body = cb.body.clone().unwrap();
    assert_eq!((body["type"].as_u64(), body["data"]["embeds"][0]["title"].as_str()), (Some(4), Some("Answer")));
    assert_eq!(body["data"]["content"], "You asked: how?");
    assert_valid(&cb);

    // Autocomplete -> type 8; button click -> type 7.
    let ac = autocomplete("ask", json!([{"name": "question", "type": 3, "value": "ru", "focused": true}]));
    fake.send_interaction(&ac);
    let cb = fake.callback_for(&ac.id, secs(5)).await;
    assert_eq!(cb.body.as_ref().unwrap()["type"], 8);
    assert_valid(&cb);
    let click = button_click("more:1", message_create("pick", &[], true));
    fake.send_interaction(&click);
    let cb = fake.callback_for(&click.id, secs(5)).await;
    assert_eq!(cb.body.as_ref().unwrap()["type"], 7);
    assert_valid(&cb);

    // MESSAGE_CREATE mentioning the bot -> POST /channels/{id}/messages.
    fake.send_message(&message_create("<@1100000000000000002> hello", &[BOT_USER_ID], false));
    let sent = fake.wait_request(|r| r.method == "POST" && r.path.starts_with("/channels/"), secs(5)).await;
    assert_eq!(sent.path, format!("/channels/{CHANNEL_ID}/messages"));
    assert_valid(&sent);

    // The REST answers parse as serenity types.
    let info = http.get_current_application_info().await.unwrap();
    assert_eq!(info.owner.map(|o| o.id.get()), Some(OWNER_ID));
    assert_eq!(http.get_current_user().await.unwrap().id.get(), BOT_USER_ID);
    let option = CreateCommandOption::new(CommandOptionType::String, "question", "Your question").required(true);
    let commands =
        Command::set_global_commands(&http, vec![CreateCommand::new("ask").description("Ask").add_option(option)])
            .await
            .unwrap();
    assert_eq!((commands[0].name.as_str(), commands[0].options[0].name.as_str()), ("ask", "question"));
    let put = fake.wait_request(|r| r.method == "PUT", secs(1)).await;
    assert_eq!(put.path, format!("/applications/{APPLICATION_ID}/commands"), "READY taught serenity the app id");
    assert_valid(&put);
    let m = ChannelId::new(CHANNEL_ID)
        .send_message(&http, CreateMessage::new().content("direct").allowed_mentions(no_pings()))
        .await
        .unwrap();
    assert_eq!(m.content, "direct");

    // Follow-up and edit of the original response answer Messages.
    let Interaction::Command(c) = serde_json::from_value::<Interaction>(ask.payload.clone()).unwrap() else { panic!() };
    let follow = CreateInteractionResponseFollowup::new()
        .content("more")
        .embed(CreateEmbed::new().title("More"))
        .allowed_mentions(no_pings());
    assert_eq!(c.create_followup(&http, follow).await.unwrap().content, "more");
    let edit = EditInteractionResponse::new().content("edited").allowed_mentions(no_pings());
    assert_eq!(c.edit_response(&http, edit).await.unwrap().content, "edited");
    for r in fake.requests().iter().filter(|r| r.path.starts_with("/webhooks/")) {
        assert_eq!(r.path.split('/').nth(2), Some(APPLICATION_ID.to_string().as_str()));
        assert_valid(r);
    }
    assert_eq!(fake.requests().iter().filter(|r| r.path.starts_with("/webhooks/")).count(), 2);
    assert!(fake.requests().iter().all(|r| r.status < 400), "{:#?}", fake.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_after_gateway_drop_and_still_answers() {
    let fake = FakeDiscord::start(FakeConfig::default()).await;
    let _http = start_client(&fake, false).await;
    fake.wait_ready(1, secs(10)).await;
    let first = slash_command("ask", json!([{"name": "question", "type": 3, "value": "one"}]));
    fake.send_interaction(&first);
    fake.callback_for(&first.id, secs(5)).await;

    fake.drop_gateway();
    let logins = fake.wait_logins(2, secs(20)).await;
    // serenity 0.12.5 RESUMEs within milliseconds of the drop; a fresh
    // IDENTIFY is fine too.
    assert_eq!(logins[1].shard, [0, 1]);
    if logins[1].kind == LoginKind::Resume {
        assert_eq!(logins[1].session_id, logins[0].session_id, "RESUME names the old session");
    }
    fake.wait_ready(1, secs(10)).await;
    let second = slash_command("ask", json!([{"name": "question", "type": 3, "value": "two"}]));
    assert_eq!(fake.send_interaction(&second), 1);
    let cb = fake.callback_for(&second.id, secs(5)).await;
    assert_eq!(cb.body.as_ref().unwrap()["data"]["content"], "You asked: two");
    assert_valid(&cb);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autosharded_client_identifies_every_shard() {
    let fake = FakeDiscord::start(FakeConfig { recommended_shards: 2, ..FakeConfig::default() }).await;
    let _http = start_client(&fake, true).await;
    // serenity's shard queuer waits 5 s between IDENTIFYs.
    let logins = fake.wait_ready(2, secs(20)).await;
    let mut shards: Vec<[u32; 2]> = logins.iter().map(|l| l.shard).collect();
    shards.sort_unstable();
    assert_eq!(shards, vec![[0, 2], [1, 2]]);
    assert!(fake.requests().iter().any(|r| r.path == "/gateway/bot"));
    // An interaction goes to exactly one shard and is answered once.
    let ask = slash_command("ask", json!([{"name": "question", "type": 3, "value": "sharded"}]));
    assert_eq!(fake.send_interaction(&ask), 1);
    fake.callback_for(&ask.id, secs(5)).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let callbacks = fake.requests().iter().filter(|r| r.path.contains(&ask.id)).count();
    assert_eq!(callbacks, 1);
}

fn callback(body: Value) -> Recorded {
    Recorded {
        method: "POST".into(),
        path: "/interactions/1/tok/callback".into(),
        query: String::new(),
        headers: BTreeMap::new(),
        body: Some(body),
        status: 204,
        at: std::time::Instant::now(),
    }
}

#[test]
fn validate_accepts_good_bodies_and_rejects_bad_ones() {
    let good = json!({"type": 4, "data": {
        "content": "ok", "embeds": [{"title": "t", "description": "d"}],
        "allowed_mentions": {"parse": [], "users": [], "roles": []},
    }});
    assert_eq!(validate(&callback(good.clone())), Ok(()));

    let mut too_long = good.clone();
    too_long["data"]["content"] = json!("a".repeat(2001));
    too_long["data"]["embeds"][0]["title"] = json!("é".repeat(257)); // counted in chars, not bytes
    let errors = validate(&callback(too_long)).unwrap_err();
    assert!(errors.iter().any(|e| e.contains("/data/content")), "{errors:#?}");
    assert!(errors.iter().any(|e| e.contains("/data/embeds/0/title")), "{errors:#?}");
    let mut just_fits = good.clone();
    just_fits["data"]["content"] = json!("é".repeat(2000));
    assert_eq!(validate(&callback(just_fits)), Ok(()));

    let mut pings = good.clone();
    pings["data"]["allowed_mentions"]["parse"] = json!(["everyone"]);
    assert!(validate(&callback(pings)).unwrap_err()[0].contains("parses"));
    let mut no_am = good.clone();
    no_am["data"].as_object_mut().unwrap().remove("allowed_mentions");
    assert!(validate(&callback(no_am)).unwrap_err()[0].contains("without allowed_mentions"));

    let mut big = good.clone();
    let embed = json!({"title": "t", "description": "d".repeat(4000)});
    big["data"]["embeds"] = json!([embed.clone(), embed]);
    assert!(validate(&callback(big)).unwrap_err()[0].contains("6000"));
    let mut rows = good.clone();
    let row = json!({"type": 1, "components": [{"type": 2, "style": 1, "label": "x", "custom_id": "x"}]});
    rows["data"]["components"] = Value::Array(vec![row; 6]);
    assert!(validate(&callback(rows)).unwrap_err().iter().any(|e| e.contains("action rows")));

    let choices: Vec<Value> = (0..26).map(|i| json!({"name": format!("c{i}"), "value": format!("{i}")})).collect();
    let ac = json!({"type": 8, "data": {"choices": choices}});
    assert!(validate(&callback(ac)).is_err(), "more than 25 autocomplete choices");
    assert_eq!(validate(&callback(json!({"type": 5}))), Ok(()), "deferred response has no data");

    let mut unknown = callback(json!({"x": 1}));
    unknown.path = "/guilds/1/bans/2".into();
    assert!(validate(&unknown).is_err(), "no schema for that route");
}

#[tokio::test]
async fn rest_checks_token_records_and_normalises_paths() {
    let fake = FakeDiscord::start(FakeConfig::default()).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = |path: &str, token: &str| {
        client.get(format!("{}{path}", fake.base_url())).header("Authorization", token).send()
    };
    assert_eq!(get("/api/v10/users/@me", "Bot wrong").await.unwrap().status(), 401);
    let me: Value = get("/users/@me", "Bot fake-bot-token").await.unwrap().json().await.unwrap();
    assert_eq!(me["id"], BOT_USER_ID.to_string());
    let missing = get("/api/v10/guilds/1/roles?&limit=5", "Bot fake-bot-token").await.unwrap();
    assert_eq!(missing.status(), 404);
    let err: Value = missing.json().await.unwrap();
    assert_eq!(err["code"], 0);
    let bot: Value = get("/api/v10/gateway/bot", "Bot fake-bot-token").await.unwrap().json().await.unwrap();
    assert_eq!((bot["shards"].as_u64(), bot["url"].as_str()), (Some(1), Some(fake.gateway_url().as_str())));

    let paths: Vec<(String, u16, String)> = fake.requests().into_iter().map(|r| (r.path, r.status, r.query)).collect();
    assert_eq!(paths[0], ("/users/@me".into(), 401, String::new()));
    assert_eq!(paths[1], ("/users/@me".into(), 200, String::new()));
    assert_eq!(paths[2], ("/guilds/1/roles".into(), 404, "&limit=5".into()));
}
