import type { Operation } from '../types.ts';

const item = (name: string, type: string) => `<tt:SimpleItemDescription Name="${name}" Type="${type}"/>`;
const description = (source: string, data: string) =>
  `<tt:MessageDescription IsProperty="true"><tt:Source>${source}</tt:Source><tt:Data>${data}</tt:Data></tt:MessageDescription>`;
const ruleSource =
  item('VideoSourceConfigurationToken', 'tt:ReferenceToken') +
  item('VideoAnalyticsConfigurationToken', 'tt:ReferenceToken') +
  item('Rule', 'xs:string');
const videoSource = item('Source', 'tt:ReferenceToken');
const stateData = item('State', 'xs:boolean');

const TOPIC_SET =
  `<wstop:TopicSet>` +
  `<tns1:RuleEngine wstop:topic="true"><CellMotionDetector wstop:topic="true"><Motion wstop:topic="true">${description(ruleSource, item('IsMotion', 'xs:boolean'))}</Motion></CellMotionDetector>` +
  `<TamperDetector wstop:topic="true"><Tamper wstop:topic="true">${description(ruleSource, item('IsTamper', 'xs:boolean'))}</Tamper></TamperDetector></tns1:RuleEngine>` +
  `<tns1:VideoSource wstop:topic="true"><MotionAlarm wstop:topic="true">${description(videoSource, stateData)}</MotionAlarm>` +
  `<GlobalSceneChange wstop:topic="true"><ImagingService wstop:topic="true">${description(videoSource, stateData)}</ImagingService></GlobalSceneChange>` +
  `<ImageTooDark wstop:topic="true"><ImagingService wstop:topic="true">${description(videoSource, stateData)}</ImagingService></ImageTooDark>` +
  `<DayNightVision wstop:topic="true">${description(item('VideoSourceConfigurationToken', 'tt:ReferenceToken'), item('day', 'xs:boolean'))}</DayNightVision></tns1:VideoSource>` +
  `<tns1:Device wstop:topic="true"><Trigger wstop:topic="true"><Relay wstop:topic="true">${description(item('RelayToken', 'tt:ReferenceToken'), item('LogicalState', 'tt:RelayLogicalState'))}</Relay></Trigger></tns1:Device>` +
  `</wstop:TopicSet>`;

export const GetEventProperties: Operation = {
  access: 'user',
  handle: () =>
    `<tev:GetEventPropertiesResponse><tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation><wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>${TOPIC_SET}<wsnt:TopicExpressionDialect>http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet</wsnt:TopicExpressionDialect><wsnt:TopicExpressionDialect>http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete</wsnt:TopicExpressionDialect><tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect><tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd</tev:MessageContentSchemaLocation></tev:GetEventPropertiesResponse>`,
};
